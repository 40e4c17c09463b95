/**
 * Schedules on SQLite. Every write is one IMMEDIATE transaction, so a tick's checks (the row still at
 * the tick and revision it was computed from, the previous execution's status) and its writes (the
 * execution, the schedule's next state) see and change one consistent database: two processes on one
 * file firing the same tick queue on the write lock, and the second finds the tick moved on (`stale`).
 */
import type {
  CodeScheduleSync,
  CodeSyncResult,
  HeldTickRelease,
  NewSchedule,
  PauseChange,
  ScheduleRecord,
  ScheduleTick,
  ScheduleWork,
  TickResult,
} from "../schedule-records.js";
import { ENDED, SCHEDULE_COLUMNS, type ScheduleRow, startedHere, tickDecision, toSchedule } from "../schedule-rows.js";
import type { Notice } from "../store.js";
import { insertExecution } from "./create.js";
import type { Connection } from "./statement-cache.js";

const SELECT_ONE = `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE schedule_id = ?`;
const SELECT_ALL = `SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY schedule_id`;
const INSERT = `
  INSERT INTO schedules (schedule_id, task, cron, timezone, data, overlap, paused, source, created_at, updated_at, next_tick_at, declared)
  VALUES (@schedule_id, @task, @cron, @timezone, @data, @overlap, @paused, @source, @now, @now, @next_tick_at, @declared)
  ON CONFLICT (schedule_id) DO NOTHING RETURNING ${SCHEDULE_COLUMNS}`;
const DELETE = "DELETE FROM schedules WHERE schedule_id = ?";
const PAUSE = `
  UPDATE schedules SET paused = 1, next_tick_at = NULL, held_tick_at = NULL, updated_at = @now, revision = revision + 1
  WHERE schedule_id = @schedule_id AND paused = 0`;
const RESUME = `
  UPDATE schedules SET paused = 0, next_tick_at = @next_tick_at, updated_at = @now, revision = revision + 1
  WHERE schedule_id = @schedule_id AND paused = 1`;
const REDEFINE = `
  UPDATE schedules SET task = @task, cron = @cron, timezone = @timezone, data = @data, overlap = @overlap, paused = @paused,
    source = 'code', declared = @declared, next_tick_at = @next_tick_at,
    held_tick_at = CASE WHEN @paused = 1 THEN NULL ELSE held_tick_at END, updated_at = @now, revision = revision + 1
  WHERE schedule_id = @schedule_id`;
const REMOVE_UNDECLARED = `
  DELETE FROM schedules WHERE source = 'code' AND task IN (SELECT value FROM json_each(@tasks))
    AND schedule_id NOT IN (SELECT value FROM json_each(@ids))
  RETURNING schedule_id`;
const DUE = `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE next_tick_at IS NOT NULL AND next_tick_at <= ? ORDER BY next_tick_at LIMIT ?`;
const HELD = `
  SELECT ${SCHEDULE_COLUMNS}, (SELECT e.status FROM executions e WHERE e.id = s.last_execution_id) AS previous_status
  FROM schedules s WHERE held_tick_at IS NOT NULL`;
const NEXT_TICK = "SELECT min(next_tick_at) AS at FROM schedules WHERE next_tick_at IS NOT NULL";
const AT_TICK = `SELECT ${SCHEDULE_COLUMNS} FROM schedules
  WHERE schedule_id = ? AND next_tick_at = ? AND revision = ? AND created_at = ? AND paused = 0`;
const AT_HELD = `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE schedule_id = ? AND held_tick_at = ? AND revision = ? AND created_at = ?`;
const STATUS = "SELECT status FROM executions WHERE id = ?";
const ADVANCE = "UPDATE schedules SET next_tick_at = @next_tick_at WHERE schedule_id = @schedule_id";
const HOLD = "UPDATE schedules SET next_tick_at = @next_tick_at, held_tick_at = @tick WHERE schedule_id = @schedule_id";
const STARTED = `
  UPDATE schedules SET next_tick_at = @next_tick_at, last_tick_at = @tick, last_execution_id = @execution_id, held_tick_at = NULL
  WHERE schedule_id = @schedule_id`;
const DROP_HELD = "UPDATE schedules SET held_tick_at = NULL WHERE schedule_id = ?";
const RELEASED = `
  UPDATE schedules SET last_tick_at = @tick, last_execution_id = @execution_id, held_tick_at = NULL WHERE schedule_id = @schedule_id`;

function row(conn: Connection, scheduleId: string): ScheduleRow | undefined {
  return conn.sql.get(SELECT_ONE).get(scheduleId) as ScheduleRow | undefined;
}

function definitionParams(schedule: NewSchedule): Record<string, string | number | null> {
  return {
    schedule_id: schedule.scheduleId,
    task: schedule.task,
    cron: schedule.cron,
    timezone: schedule.timezone,
    data: schedule.dataJson,
    overlap: schedule.overlap,
    paused: schedule.paused ? 1 : 0,
    source: schedule.source,
    now: schedule.now,
    next_tick_at: schedule.paused ? null : schedule.nextTickAt,
    declared: schedule.declaredJson ?? null,
  };
}

export function createSchedule(conn: Connection, schedule: NewSchedule): ScheduleRecord | null {
  const inserted = conn.sql.get(INSERT).get(definitionParams(schedule)) as ScheduleRow | undefined;
  return inserted ? toSchedule(inserted) : null;
}

export function getSchedule(conn: Connection, scheduleId: string): ScheduleRecord | null {
  const found = row(conn, scheduleId);
  return found ? toSchedule(found) : null;
}

export function listSchedules(conn: Connection): ScheduleRecord[] {
  return (conn.sql.get(SELECT_ALL).all() as ScheduleRow[]).map(toSchedule);
}

export function deleteSchedule(conn: Connection, scheduleId: string): boolean {
  return conn.sql.get(DELETE).run(scheduleId).changes > 0;
}

export function setSchedulePaused(conn: Connection, change: PauseChange): ScheduleRecord | null {
  const apply = conn.db.transaction(() => {
    const params = { schedule_id: change.scheduleId, now: change.now, next_tick_at: change.nextTickAt };
    if (change.paused) conn.sql.get(PAUSE).run({ schedule_id: params.schedule_id, now: params.now });
    else conn.sql.get(RESUME).run(params);
    const found = row(conn, change.scheduleId);
    return found ? toSchedule(found) : null;
  });
  return apply.immediate();
}

export function syncCodeSchedules(conn: Connection, sync: CodeScheduleSync): CodeSyncResult {
  const result: CodeSyncResult = { created: [], updated: [], takenOver: [], removed: [] };
  const apply = conn.db.transaction(() => {
    for (const schedule of sync.schedules) {
      const stored = row(conn, schedule.scheduleId);
      if (!stored) {
        conn.sql.get(INSERT).get(definitionParams({ ...schedule, now: sync.now }));
        result.created.push(schedule.scheduleId);
      } else if (stored.source !== "code" || stored.declared !== schedule.declaredJson) {
        conn.sql.get(REDEFINE).run(definitionParams({ ...schedule, now: sync.now }));
        (stored.source === "code" ? result.updated : result.takenOver).push(schedule.scheduleId);
      }
    }
    const ids = JSON.stringify(sync.schedules.map((s) => s.scheduleId));
    const removed = conn.sql.get(REMOVE_UNDECLARED).all({ tasks: JSON.stringify(sync.tasks), ids }) as { schedule_id: string }[];
    result.removed.push(...removed.map((r) => r.schedule_id));
  });
  apply.immediate();
  return result;
}

export function scheduleWork(conn: Connection, now: number, limit: number): ScheduleWork {
  // One read transaction: the three answers come from one snapshot.
  const read = conn.db.transaction((): ScheduleWork => {
    const due = (conn.sql.get(DUE).all(now, limit) as ScheduleRow[]).map(toSchedule);
    const held = (conn.sql.get(HELD).all() as (ScheduleRow & { previous_status: string | null })[]).map((r) => ({
      schedule: toSchedule(r),
      previousEnded: r.previous_status === null || ENDED.has(r.previous_status),
    }));
    const next = conn.sql.get(NEXT_TICK).get() as { at: number | null };
    return { due, held, nextTickAt: next.at };
  });
  return read.deferred();
}

function previousStatus(conn: Connection, schedule: ScheduleRow): string | null {
  if (schedule.last_execution_id === null) return null;
  const found = conn.sql.get(STATUS).get(schedule.last_execution_id) as { status: string } | undefined;
  return found?.status ?? null;
}

export function fireScheduleTick(conn: Connection, tick: ScheduleTick): { result: TickResult; notices: Notice[] } {
  const notices: Notice[] = [];
  const apply = conn.db.transaction((): TickResult => {
    const schedule = conn.sql.get(AT_TICK).get(tick.scheduleId, tick.dueAt, tick.revision, tick.createdAt) as ScheduleRow | undefined;
    if (!schedule) return { outcome: "stale" };
    const params = { schedule_id: tick.scheduleId, next_tick_at: tick.nextTickAt, tick: tick.tickAt };
    if (tick.execution === null) {
      conn.sql.get(ADVANCE).run({ schedule_id: params.schedule_id, next_tick_at: params.next_tick_at });
      return { outcome: "failed" };
    }
    const decision = tickDecision(schedule.overlap as ScheduleRecord["overlap"], previousStatus(conn, schedule), schedule.held_tick_at);
    if (decision === "skip") {
      conn.sql.get(ADVANCE).run({ schedule_id: params.schedule_id, next_tick_at: params.next_tick_at });
      return { outcome: "skipped" };
    }
    if (decision === "hold") {
      conn.sql.get(HOLD).run(params);
      return { outcome: "held", previousExecutionId: schedule.last_execution_id as string };
    }
    const started = insertExecution(conn, tick.execution, notices);
    if (!startedHere(started, tick.scheduleId)) {
      conn.sql.get(ADVANCE).run({ schedule_id: params.schedule_id, next_tick_at: params.next_tick_at });
      return { outcome: "failed" };
    }
    conn.sql.get(STARTED).run({ ...params, execution_id: started.execution.id });
    return { outcome: "started", ...started };
  });
  return { result: apply.immediate(), notices };
}

export function releaseHeldTick(conn: Connection, release: HeldTickRelease): { result: TickResult; notices: Notice[] } {
  const notices: Notice[] = [];
  const apply = conn.db.transaction((): TickResult => {
    const schedule = conn.sql.get(AT_HELD).get(release.scheduleId, release.heldTickAt, release.revision, release.createdAt) as
      | ScheduleRow
      | undefined;
    if (!schedule) return { outcome: "stale" };
    const previous = previousStatus(conn, schedule);
    if (previous !== null && !ENDED.has(previous)) return { outcome: "not_ready" };
    if (release.execution === null) {
      conn.sql.get(DROP_HELD).run(release.scheduleId);
      return { outcome: "failed" };
    }
    const started = insertExecution(conn, release.execution, notices);
    if (!startedHere(started, release.scheduleId)) {
      conn.sql.get(DROP_HELD).run(release.scheduleId);
      return { outcome: "failed" };
    }
    conn.sql.get(RELEASED).run({ schedule_id: release.scheduleId, tick: release.heldTickAt, execution_id: started.execution.id });
    return { outcome: "started", ...started };
  });
  return { result: apply.immediate(), notices };
}

/** Exposed for the plan test: the due and next-tick reads are served by the partial index. */
export const SCHEDULE_QUERIES = { DUE, NEXT_TICK } as const;
