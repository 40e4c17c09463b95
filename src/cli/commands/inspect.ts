/** `zart get <id>`, `zart steps <id>`, `zart wait <id> [--timeout S]`, `zart list …`. */
import { type Command, Option } from "commander";
import { EXECUTION_STATUSES, type ExecutionStatus } from "../../client/index.js";
import { formatExecution, formatExecutionList, formatWaitResult, waitExitCode } from "../format/executions.js";
import { formatSteps } from "../format/steps.js";
import { parseSeconds, wholeNumber } from "./arguments.js";
import { clientAction, withConnectionOptions } from "./client-command.js";
import { waitForEnd } from "./wait-for-end.js";

export function addGetCommand(program: Command): void {
  withConnectionOptions(
    program.command("get").description("show an execution: status, times, output, error").argument("<id>", "execution id"),
  ).action(clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.get(id), formatExecution)));
}

export function addStepsCommand(program: Command): void {
  withConnectionOptions(
    program.command("steps").description("show an execution's step timeline, with every failed attempt").argument("<id>", "execution id"),
  ).action(clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.steps(id), formatSteps)));
}

export function addWaitCommand(program: Command): void {
  withConnectionOptions(
    program
      .command("wait")
      .description("wait for an execution to end; exit 0 completed, 1 failed or cancelled, 3 still running at the timeout")
      .argument("<id>", "execution id")
      .option("--timeout <seconds>", "stop waiting after this many seconds (default: no limit)", parseSeconds),
  ).action(
    clientAction<[string], { timeout?: number }>(async (ctx, [id], flags) => {
      const result = await waitForEnd(ctx, id, flags.timeout);
      ctx.show(result, formatWaitResult);
      return waitExitCode(result);
    }),
  );
}

interface ListFlags {
  status?: ExecutionStatus;
  task?: string;
  limit?: number;
  offset?: number;
  order?: "asc" | "desc";
}

export function addListCommand(program: Command): void {
  withConnectionOptions(
    program
      .command("list")
      .description("list executions, newest first")
      .addOption(new Option("--status <status>", "only this status").choices(EXECUTION_STATUSES))
      .option("--task <task>", "only this task")
      .option("--limit <n>", "rows per page (server default 50, at most 500)", wholeNumber(1))
      .option("--offset <n>", "rows to skip", wholeNumber(0))
      .addOption(new Option("--order <order>", "by creation time").choices(["asc", "desc"])),
  ).action(
    clientAction<[], ListFlags>(async (ctx, _args, flags) => {
      const { status, task, limit, offset, order } = flags;
      ctx.show(await ctx.client.list({ status, task, limit, offset, order }), formatExecutionList);
    }),
  );
}
