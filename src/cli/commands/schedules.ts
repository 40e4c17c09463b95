/** `zart schedules list | get <id> | create <id> --task T --cron C … | delete <id> | pause <id> | resume <id>` */
import { type Command, Option } from "commander";
import type { CreateScheduleRequest, OverlapPolicy } from "../../client/index.js";
import { formatSchedule, formatScheduleDeleted, formatScheduleList } from "../format/schedules.js";
import { type DataFlags, readData, withDataOptions } from "./arguments.js";
import { clientAction, withConnectionOptions } from "./client-command.js";

interface CreateFlags extends DataFlags {
  task: string;
  cron: string;
  timezone?: string;
  overlap?: OverlapPolicy;
  paused?: boolean;
}

function addCreate(schedules: Command): void {
  const command = schedules
    .command("create")
    .description("create a schedule: each cron tick starts one execution of the task")
    .argument("<schedule_id>", "the schedule's id (yours to choose)");
  withDataOptions(command, "the input each tick's execution starts with", "{}")
    .requiredOption("--task <task>", "task each tick starts")
    .requiredOption("--cron <expression>", 'cron expression, 5 fields (minute first) or 6 (second first), e.g. "0 3 * * *"')
    .option("--timezone <zone>", "IANA time zone the expression is read in (default UTC)")
    .addOption(
      new Option("--overlap <policy>", "when the previous tick's execution still runs (default skip)").choices([
        "skip",
        "allow",
        "buffer_one",
      ]),
    )
    .option("--paused", "create it paused");
  withConnectionOptions(command).action(
    clientAction<[string, string | undefined], CreateFlags>(async (ctx, [scheduleId, dash], flags) => {
      const request: CreateScheduleRequest = { schedule_id: scheduleId, task: flags.task, cron: flags.cron };
      if (flags.timezone !== undefined) request.timezone = flags.timezone;
      const data = await readData(flags, dash, ctx.terminal);
      if (data !== undefined) request.data = data;
      if (flags.overlap !== undefined) request.overlap = flags.overlap;
      if (flags.paused) request.paused = true;
      ctx.show(await ctx.client.schedules.create(request), formatSchedule);
    }),
  );
}

export function addSchedulesCommand(program: Command): void {
  const schedules = program.command("schedules").description("cron schedules: list, get, create, delete, pause, resume");
  withConnectionOptions(schedules.command("list").description("list schedules with their next fire time")).action(
    clientAction<[]>(async (ctx) => ctx.show(await ctx.client.schedules.list(), formatScheduleList)),
  );
  withConnectionOptions(schedules.command("get").description("show a schedule and its next fire times").argument("<schedule_id>")).action(
    clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.schedules.get(id), formatSchedule)),
  );
  addCreate(schedules);
  withConnectionOptions(
    schedules.command("delete").description("delete a schedule (its past executions stay)").argument("<schedule_id>"),
  ).action(clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.schedules.delete(id), formatScheduleDeleted)));
  withConnectionOptions(schedules.command("pause").description("stop a schedule's ticks until resumed").argument("<schedule_id>")).action(
    clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.schedules.pause(id), formatSchedule)),
  );
  withConnectionOptions(schedules.command("resume").description("resume a paused schedule").argument("<schedule_id>")).action(
    clientAction<[string]>(async (ctx, [id]) => ctx.show(await ctx.client.schedules.resume(id), formatSchedule)),
  );
}
