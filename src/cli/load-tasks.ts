/**
 * Loads task modules: every named export that is a task definition, plus a default export that is
 * one task or an array of them. TypeScript modules load through tsx (typescript-modules.ts).
 */
import { pathToFileURL } from "node:url";
import { isTaskDefinition, type TaskDefinition } from "../core/task.js";
import { ConfigError } from "./resolve-config.js";
import { enableTypeScriptModules, isTypeScriptFile } from "./typescript-modules.js";

export interface LoadedTasks {
  tasks: TaskDefinition[];
  /** Where they came from, for the start-up banner. */
  sources: string[];
}

function tasksIn(exports: Record<string, unknown>): TaskDefinition[] {
  const found: TaskDefinition[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (isTaskDefinition(value)) found.push(value);
    else if (name === "default" && Array.isArray(value)) found.push(...value.filter(isTaskDefinition));
    // A CommonJS module (or a .ts file compiled as one) arrives as `default: module.exports`.
    else if (name === "default" && typeof value === "object" && value !== null) found.push(...tasksIn(value as Record<string, unknown>));
  }
  return found;
}

export async function loadTaskModules(paths: readonly string[]): Promise<LoadedTasks> {
  if (paths.length === 0) {
    const examples = (await import("../tasks/examples.js")) as Record<string, unknown>;
    return { tasks: unique(tasksIn(examples), "bundled examples"), sources: ["bundled examples"] };
  }
  if (paths.some(isTypeScriptFile)) await enableTypeScriptModules();
  const all: TaskDefinition[] = [];
  for (const path of paths) {
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`cannot load task module ${path}: ${(error as Error).message}`);
    }
    const found = tasksIn(exports);
    if (found.length === 0) {
      throw new ConfigError(`task module ${path} exports no task definitions (export tasks made with defineTask)`);
    }
    all.push(...found);
  }
  return { tasks: unique(all, paths.join(", ")), sources: [...paths] };
}

/** The same definition exported twice (named and in the default array) counts once; two different
 * definitions with one name are a mistake. */
function unique(tasks: TaskDefinition[], where: string): TaskDefinition[] {
  const byName = new Map<string, TaskDefinition>();
  for (const task of tasks) {
    const seen = byName.get(task.name);
    if (seen && seen !== task) throw new ConfigError(`two different tasks are named "${task.name}" (${where})`);
    byName.set(task.name, task);
  }
  return [...byName.values()];
}
