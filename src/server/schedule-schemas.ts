/**
 * Wire schemas of `/api/v1/schedules` (TypeBox, like schemas.ts): a schedule is
 * `{ schedule_id, task, cron, timezone, data, overlap, paused }` (operations.md §5) plus what the server
 * knows about it (next fire times, last tick, source, times). The body schema checks types only; the
 * engine checks the values (cron, time zone, task, data against the task's input schema).
 */
import type { Static } from "typebox";
import { OVERLAP_VALUES } from "../core/schedule.js";
import { Type } from "../core/typebox.js";
import type { ScheduleInfo } from "../engine/schedules/schedule-api.js";
import { named, optionalBody } from "./schema-names.js";
import { isoTime } from "./serialize.js";

const Timestamp = Type.String({ format: "date-time", description: "RFC 3339, UTC, `Z` suffix" });
const Overlap = named(
  "OverlapPolicy",
  Type.Enum([...OVERLAP_VALUES], {
    description:
      "While the previous tick's execution has not ended: `skip` the tick, `allow` it to start anyway, or `buffer_one`: hold one tick and start it when the previous execution ends",
  }),
);

export const ScheduleIdParams = Type.Object({
  // No pattern: an id that cannot exist is simply not found (404 `schedule_not_found`), as for executions.
  id: Type.String({ description: "Schedule id" }),
});
export type ScheduleIdParams = Static<typeof ScheduleIdParams>;

export const CreateScheduleBody = named(
  "CreateScheduleRequest",
  Type.Object(
    {
      schedule_id: Type.String({
        description: 'Yours to choose: 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
      }),
      task: Type.String({ description: "Name of a registered task; each tick starts one execution of it" }),
      cron: Type.String({ description: 'Cron expression: 5 fields (minute first) or 6 (second first), e.g. `"0 3 * * *"`' }),
      timezone: Type.Optional(Type.String({ description: "IANA time zone the expression is read in (default `UTC`)" })),
      data: Type.Optional(
        Type.Object(
          {},
          {
            additionalProperties: true,
            description: "The input of each tick's execution (default `{}`); checked against the task's input schema",
          },
        ),
      ),
      overlap: Type.Optional(Overlap),
      paused: Type.Optional(Type.Boolean({ description: "Create it paused (default false)" })),
    },
    { description: "Unknown fields are ignored" },
  ),
);
export type CreateScheduleBody = Static<typeof CreateScheduleBody>;

export const ScheduleResponse = named(
  "Schedule",
  Type.Object({
    schedule_id: Type.String(),
    task: Type.String(),
    cron: Type.String(),
    timezone: Type.String(),
    data: Type.Unknown({ description: "The input of each tick's execution" }),
    overlap: Overlap,
    paused: Type.Boolean(),
    next_fire_times: Type.Array(Timestamp, { description: "The next (up to 5) fire times, soonest first; empty while paused" }),
    last_fired_at: Type.Union([Timestamp, Type.Null()], { description: "The tick of the last execution the schedule started" }),
    last_execution_id: Type.Union([Type.String(), Type.Null()], { description: "The execution that tick started" }),
    held_tick_at: Type.Union([Timestamp, Type.Null()], {
      description: "`buffer_one`: the tick held until the last execution ends",
    }),
    source: Type.Enum(["code", "api"], { description: "`code`: declared with `defineSchedule`; `api`: created over HTTP" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
);
export type ScheduleResponse = Static<typeof ScheduleResponse>;

export const ScheduleListResponse = named("ScheduleList", Type.Object({ schedules: Type.Array(ScheduleResponse) }));

export const ScheduleDeletedResponse = named("ScheduleDeleted", Type.Object({ schedule_id: Type.String(), deleted: Type.Literal(true) }));

/** Pause and resume take no body; one that is sent must still be JSON within the size limit, and is ignored. */
export const ScheduleActionBody = named(
  "ScheduleActionRequest",
  optionalBody(Type.Unknown({ description: "Ignored. May be left out; when sent it must be JSON (415, 413 and 400 apply)" })),
);

export function scheduleJson(schedule: ScheduleInfo): ScheduleResponse {
  const optionalTime = (ms: number | null) => (ms === null ? null : isoTime(ms));
  return {
    schedule_id: schedule.scheduleId,
    task: schedule.task,
    cron: schedule.cron,
    timezone: schedule.timezone,
    data: JSON.parse(schedule.dataJson),
    overlap: schedule.overlap,
    paused: schedule.paused,
    next_fire_times: schedule.nextFireTimes.map(isoTime),
    last_fired_at: optionalTime(schedule.lastTickAt),
    last_execution_id: schedule.lastExecutionId,
    held_tick_at: optionalTime(schedule.heldTickAt),
    source: schedule.source,
    created_at: isoTime(schedule.createdAt),
    updated_at: isoTime(schedule.updatedAt),
  };
}
