/** `zart cancel <id>`, `zart retry <id>`, `zart rerun <id> [--from-step NAME]`, `zart send <id> <event> …`. */
import type { Command } from "commander";
import type { RerunRequest } from "../../client/index.js";
import { formatCancel, formatEventDelivery, formatRerun, formatRetry } from "../format/actions.js";
import { type DataFlags, readData, withDataOptions } from "./arguments.js";
import { clientAction, withConnectionOptions } from "./client-command.js";

export function addCancelCommand(program: Command): void {
  withConnectionOptions(
    program.command("cancel").description("cancel a pending, running or waiting execution").argument("<id>", "execution id"),
  ).action(clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.cancel(id), formatCancel)));
}

export function addRetryCommand(program: Command): void {
  withConnectionOptions(
    program
      .command("retry")
      .description("resume a failed or cancelled execution in place, keeping its recorded steps")
      .argument("<id>", "execution id"),
  ).action(clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.retry(id), formatRetry)));
}

interface RerunFlags extends DataFlags {
  fromStep?: string;
  idempotencyKey?: string;
}

export function addRerunCommand(program: Command): void {
  const command = program
    .command("rerun")
    .description("start a new execution of the same task: from scratch, or replaying up to --from-step")
    .argument("<id>", "execution id");
  withDataOptions(command, "the new execution's input", "the old execution's")
    .option("--from-step <name>", "copy the records made before this step and run from it")
    .option("--idempotency-key <key>", "idempotency key of the new execution");
  withConnectionOptions(command).action(
    clientAction<[string, string | undefined], RerunFlags>(async (ctx, [id, dash], flags) => {
      const data = await readData(flags, dash, ctx.terminal);
      const request: RerunRequest = {};
      if (flags.fromStep !== undefined) request.from_step = flags.fromStep;
      if (data !== undefined) request.data = data;
      if (flags.idempotencyKey !== undefined) request.idempotency_key = flags.idempotencyKey;
      ctx.show(await ctx.client.rerun(id, request), (result, view) => formatRerun(result, view, request));
    }),
  );
}

export function addSendCommand(program: Command): void {
  const command = program
    .command("send")
    .description("deliver an event to an execution waiting for it")
    .argument("<id>", "execution id")
    .argument("<event>", "event name");
  withConnectionOptions(withDataOptions(command, "the event's payload", "null")).action(
    clientAction<[string, string, string | undefined], DataFlags>(async (ctx, [id, event, dash], flags) => {
      const payload = await readData(flags, dash, ctx.terminal);
      ctx.show(await ctx.client.sendEvent(id, event, payload), formatEventDelivery);
    }),
  );
}
