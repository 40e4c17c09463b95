/** The `schedules` row as both stores return it (same column names; times as numbers) and its record. */
import type { OverlapPolicy, ScheduleRecord, ScheduleSource } from "./schedule-records.js";

export const SCHEDULE_COLUMNS =
  "schedule_id, task, cron, timezone, data, overlap, paused, source, created_at, updated_at, revision, " +
  "next_tick_at, last_tick_at, last_execution_id, held_tick_at, declared";

export interface ScheduleRow {
  schedule_id: string;
  task: string;
  cron: string;
  timezone: string;
  data: string;
  overlap: string;
  paused: number;
  source: string;
  created_at: number;
  updated_at: number;
  revision: number;
  next_tick_at: number | null;
  last_tick_at: number | null;
  last_execution_id: string | null;
  held_tick_at: number | null;
  declared: string | null;
}

export function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    scheduleId: row.schedule_id,
    task: row.task,
    cron: row.cron,
    timezone: row.timezone,
    dataJson: row.data,
    overlap: row.overlap as OverlapPolicy,
    paused: row.paused !== 0,
    source: row.source as ScheduleSource,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revision: row.revision,
    nextTickAt: row.next_tick_at,
    lastTickAt: row.last_tick_at,
    lastExecutionId: row.last_execution_id,
    heldTickAt: row.held_tick_at,
    declaredJson: row.declared,
  };
}

/** What a tick that found the previous execution in `status` (null: none, or gone) does under `overlap`. */
export function tickDecision(overlap: OverlapPolicy, previousStatus: string | null, heldTickAt: number | null): "start" | "skip" | "hold" {
  const running = previousStatus !== null && !ENDED.has(previousStatus);
  if (!running || overlap === "allow") return "start";
  if (overlap === "buffer_one" && heldTickAt === null) return "hold";
  return "skip";
}

export const ENDED: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/**
 * Whether a tick's insert stands for this schedule's tick: it created the execution, or found one this
 * schedule started (a tick fired again). An execution a client created under the tick's idempotency key
 * (`schedule:<id>:<tick>`) is not adopted: the tick is dropped instead (`failed`), and the client's
 * execution is left as it is.
 */
export function startedHere(started: { execution: { scheduleId: string | null }; created: boolean }, scheduleId: string): boolean {
  return started.created || started.execution.scheduleId === scheduleId;
}
