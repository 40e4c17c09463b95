/**
 * Loads task modules: every named export that is a task definition or a schedule (`defineSchedule`),
 * plus a default export that is one or an array of them. TypeScript modules load through tsx
 * (typescript-modules.ts).
 */
import { pathToFileURL } from "node:url";
import { isScheduleDefinition, type ScheduleDefinition } from "../core/schedule.js";
import { describeValue, isTaskDefinition, type TaskDefinition } from "../core/task.js";
import { ConfigError } from "./resolve-config.js";
import { enableTypeScriptModules, isTypeScriptFile } from "./typescript-modules.js";

export interface LoadedTasks {
  tasks: TaskDefinition[];
  /** The schedules the modules declare (none for the bundled examples). */
  schedules: ScheduleDefinition[];
  /** Where they came from, for the start-up banner. */
  sources: string[];
}

type Definition = TaskDefinition | ScheduleDefinition;
const isDefinition = (value: unknown): value is Definition => isTaskDefinition(value) || isScheduleDefinition(value);

/**
 * The definitions among a module's exports. Named exports that are not definitions are the module's own
 * helpers; a default-export array is a list of definitions, so anything else in it (often `undefined`
 * from a circular import) is refused rather than left out.
 */
function definitionsIn(exports: Record<string, unknown>, where: string): Definition[] {
  const found: Definition[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (isDefinition(value)) found.push(value);
    else if (name === "default" && Array.isArray(value)) found.push(...listed(value, where));
    // A CommonJS module (or a .ts file compiled as one) arrives as `default: module.exports`.
    else if (name === "default" && typeof value === "object" && value !== null)
      found.push(...definitionsIn(value as Record<string, unknown>, where));
  }
  return found;
}

function listed(items: unknown[], where: string): Definition[] {
  const place = items.findIndex((item) => !isDefinition(item));
  if (place === -1) return items as Definition[];
  throw new ConfigError(
    `${where}: its default export's item ${place} is ${describeValue(items[place])}, not a task or schedule definition`,
  );
}

function tasksIn(exports: Record<string, unknown>): TaskDefinition[] {
  return definitionsIn(exports, "bundled examples").filter(isTaskDefinition);
}

export async function loadTaskModules(paths: readonly string[]): Promise<LoadedTasks> {
  if (paths.length === 0) {
    const examples = (await import("../tasks/examples.js")) as Record<string, unknown>;
    return { tasks: unique(tasksIn(examples), "bundled examples"), schedules: [], sources: ["bundled examples"] };
  }
  if (paths.some(isTypeScriptFile)) await enableTypeScriptModules();
  const all: TaskDefinition[] = [];
  const schedules: ScheduleDefinition[] = [];
  for (const path of paths) {
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`cannot load task module ${path}: ${(error as Error).message}`);
    }
    const found = definitionsIn(exports, `task module ${path}`);
    if (found.length === 0) {
      throw new ConfigError(`task module ${path} exports no task definitions (export tasks made with defineTask)`);
    }
    all.push(...found.filter(isTaskDefinition));
    schedules.push(...found.filter(isScheduleDefinition));
  }
  return { tasks: unique(all, paths.join(", ")), schedules: uniqueSchedules(schedules, paths.join(", ")), sources: [...paths] };
}

function uniqueSchedules(schedules: ScheduleDefinition[], where: string): ScheduleDefinition[] {
  const byId = new Map<string, ScheduleDefinition>();
  for (const schedule of schedules) {
    const seen = byId.get(schedule.schedule_id);
    if (seen && seen !== schedule) throw new ConfigError(`two different schedules have the id "${schedule.schedule_id}" (${where})`);
    byId.set(schedule.schedule_id, schedule);
  }
  return [...byId.values()];
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
