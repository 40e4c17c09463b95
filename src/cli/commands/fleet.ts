/** `zart tasks`, `zart workers`, `zart stats`, `zart prune --older-than D`. */
import { type Command, InvalidArgumentError } from "commander";
import { toMs } from "../../core/duration.js";
import { formatPrune, formatStats } from "../format/actions.js";
import { formatTasks, formatWorkers } from "../format/fleet.js";
import { clientAction, withConnectionOptions } from "./client-command.js";

export function addTasksCommand(program: Command): void {
  withConnectionOptions(program.command("tasks").description("list tasks: live workers, executions by status")).action(
    clientAction<[]>(async (ctx) => ctx.show(await ctx.client.tasks(), formatTasks)),
  );
}

export function addWorkersCommand(program: Command): void {
  withConnectionOptions(program.command("workers").description("list live workers")).action(
    clientAction<[]>(async (ctx) => ctx.show(await ctx.client.workers(), formatWorkers)),
  );
}

export function addStatsCommand(program: Command): void {
  withConnectionOptions(program.command("stats").description("count executions by status")).action(
    clientAction<[]>(async (ctx) => ctx.show(await ctx.client.stats(), formatStats)),
  );
}

function parseAge(value: string): string {
  let ms: number;
  try {
    ms = toMs(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  if (ms <= 0) throw new InvalidArgumentError("expected a duration above zero, e.g. 30d or 12h.");
  return value.trim();
}

export function addPruneCommand(program: Command): void {
  withConnectionOptions(
    program
      .command("prune")
      .description("delete, once, the completed, failed and cancelled executions that ended longer ago than --older-than")
      .requiredOption("--older-than <duration>", "age such as 30d, 12h or 90m", parseAge),
  ).action(
    clientAction<[], { olderThan: string }>(async (ctx, _args, flags) => ctx.show(await ctx.client.prune(flags.olderThan), formatPrune)),
  );
}
