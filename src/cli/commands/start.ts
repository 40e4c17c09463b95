/** `zart start <task> [--data JSON | --data-file F | -] [--idempotency-key K] [--wait [--timeout S]]` */
import type { Command } from "commander";
import { ConfigError } from "../config-error.js";
import { formatScheduled, formatWaitResult, waitExitCode } from "../format/executions.js";
import { type DataFlags, parseSeconds, readData, withDataOptions } from "./arguments.js";
import { clientAction, withConnectionOptions } from "./client-command.js";
import { waitForEnd } from "./wait-for-end.js";

interface StartFlags extends DataFlags {
  idempotencyKey?: string;
  wait?: boolean;
  timeout?: number;
}

export function addStartCommand(program: Command): void {
  const command = program
    .command("start")
    .description("start an execution of a task (with --wait: and wait for it to end)")
    .argument("<task>", "task name");
  withDataOptions(command, "the task's input", "{}")
    .option("--idempotency-key <key>", "a repeat with the same key returns the existing execution")
    .option("--wait", "wait for the execution to end; exit 0 completed, 1 failed or cancelled, 3 timeout")
    .option("--timeout <seconds>", "with --wait: stop waiting after this many seconds", parseSeconds);
  withConnectionOptions(command).action(
    clientAction<[string, string | undefined], StartFlags>(async (ctx, [task, dash], flags) => {
      if (flags.timeout !== undefined && !flags.wait) throw new ConfigError("--timeout needs --wait");
      // Only the absence of every data option means {}: a value given (null too) goes as given, for the server to judge.
      const given = await readData(flags, dash, ctx.terminal);
      const data = given === undefined ? {} : given;
      const scheduled = await ctx.client.schedule(task, data as Record<string, unknown>, { idempotency_key: flags.idempotencyKey });
      if (!flags.wait) {
        ctx.show(scheduled, formatScheduled);
        return 0;
      }
      if (!ctx.settings.json) ctx.terminal.out(formatScheduled(scheduled, ctx.view()));
      const result = await waitForEnd(ctx, scheduled.execution_id, flags.timeout);
      ctx.show(result, formatWaitResult);
      return waitExitCode(result);
    }),
  );
}
