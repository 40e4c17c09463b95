/** Human output of `zart schedules …`. */
import type { Schedule, ScheduleDeleted, ScheduleList } from "../../client/index.js";
import { renderFields, renderJsonBlock, renderTable } from "./layout.js";
import { printable } from "./printable.js";
import { relativeTime, stamp } from "./time.js";
import { strong, type View } from "./view.js";

function state(schedule: Schedule, view: View) {
  return schedule.paused
    ? { text: "paused", paint: view.palette.status("cancelled") }
    : { text: "active", paint: view.palette.status("completed") };
}

function nextFire(schedule: Schedule, view: View): string {
  const next = schedule.next_fire_times?.[0];
  if (schedule.paused || !next) return "-";
  return `${relativeTime(next, view.now)} (${next})`;
}

export function formatScheduleList(list: ScheduleList, view: View): string {
  if (list.schedules.length === 0) return "no schedules";
  return renderTable(
    ["SCHEDULE ID", "TASK", "CRON", "TIMEZONE", "OVERLAP", "STATE", "NEXT FIRE"],
    list.schedules.map((schedule) => [
      schedule.schedule_id,
      schedule.task,
      schedule.cron,
      schedule.timezone,
      schedule.overlap,
      state(schedule, view),
      nextFire(schedule, view),
    ]),
    view.palette,
  );
}

/** One schedule: its fields, the next fire times, and the data each tick starts with. */
export function formatSchedule(schedule: Schedule, view: View): string {
  const status = state(schedule, view);
  const fields = renderFields([
    ["task", schedule.task],
    ["cron", schedule.cron],
    ["timezone", schedule.timezone],
    ["overlap", schedule.overlap],
    ["state", status],
    ["source", schedule.source],
    ["last fired", schedule.last_fired_at === undefined ? undefined : stamp(schedule.last_fired_at, view.now)],
    ["created", schedule.created_at === undefined ? undefined : stamp(schedule.created_at, view.now)],
  ]);
  const parts = [strong(schedule.schedule_id, view), fields];
  const next = schedule.paused ? [] : (schedule.next_fire_times ?? []);
  if (next.length > 0) parts.push("next fire times", ...next.map((at) => `  ${printable(stamp(at, view.now))}`));
  parts.push("data", renderJsonBlock(schedule.data ?? {}));
  return parts.join("\n");
}

export function formatScheduleDeleted(result: ScheduleDeleted, view: View): string {
  return `schedule ${strong(result.schedule_id, view)} deleted`;
}
