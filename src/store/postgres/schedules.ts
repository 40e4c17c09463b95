/**
 * Schedules on PostgreSQL. A tick (or a held tick's release) runs in one transaction that first locks the
 * schedule row with `FOR UPDATE` under the tick and revision it was computed from. Processes racing for
 * the same tick queue on that lock; when the first commits, READ COMMITTED re-checks the others' WHERE
 * against the committed row, which no longer matches (its next tick moved), so they answer `stale` without
 * writing. The execution's insert, the previous execution's status check and the schedule's update share
 * the transaction, so a tick is never half-applied; the execution's idempotency key
 * (`schedule:<id>:<tick>`) is a second guard that no tick ever has two executions.
 */
import type pg from "pg";
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
import { inTransaction, type SqlContext } from "./sql-context.js";

type Queryable = pg.Pool | pg.PoolClient;

/** $1..$11: see {@link definitionValues}. */
function insertSql(s: string): string {
  return `INSERT INTO ${s}.schedules (schedule_id, task, cron, timezone, data, overlap, paused, source, created_at, updated_at, next_tick_at, declared)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)
    ON CONFLICT (schedule_id) DO NOTHING RETURNING ${SCHEDULE_COLUMNS}`;
}

function definitionValues(schedule: NewSchedule): unknown[] {
  return [
    schedule.scheduleId,
    schedule.task,
    schedule.cron,
    schedule.timezone,
    schedule.dataJson,
    schedule.overlap,
    schedule.paused ? 1 : 0,
    schedule.source,
    schedule.now,
    schedule.paused ? null : schedule.nextTickAt,
    schedule.declaredJson ?? null,
  ];
}

async function rowOf(ctx: SqlContext, q: Queryable, scheduleId: string, lock = ""): Promise<ScheduleRow | undefined> {
  const found = await q.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM ${ctx.s}.schedules WHERE schedule_id = $1 ${lock}`, [
    scheduleId,
  ]);
  return found.rows[0];
}

export async function createSchedule(ctx: SqlContext, schedule: NewSchedule): Promise<ScheduleRecord | null> {
  const inserted = await ctx.pool.query<ScheduleRow>(insertSql(ctx.s), definitionValues(schedule));
  const found = inserted.rows[0];
  return found ? toSchedule(found) : null;
}

export async function getSchedule(ctx: SqlContext, scheduleId: string): Promise<ScheduleRecord | null> {
  const found = await rowOf(ctx, ctx.pool, scheduleId);
  return found ? toSchedule(found) : null;
}

export async function listSchedules(ctx: SqlContext): Promise<ScheduleRecord[]> {
  const found = await ctx.pool.query<ScheduleRow>(`SELECT ${SCHEDULE_COLUMNS} FROM ${ctx.s}.schedules ORDER BY schedule_id`);
  return found.rows.map(toSchedule);
}

export async function deleteSchedule(ctx: SqlContext, scheduleId: string): Promise<boolean> {
  const deleted = await ctx.pool.query(`DELETE FROM ${ctx.s}.schedules WHERE schedule_id = $1`, [scheduleId]);
  return (deleted.rowCount ?? 0) > 0;
}

/** One statement: pausing (or resuming) a schedule already so changes nothing, and the row comes back either way. */
export async function setSchedulePaused(ctx: SqlContext, change: PauseChange): Promise<ScheduleRecord | null> {
  const set = change.paused
    ? "paused = 1, next_tick_at = NULL, held_tick_at = NULL, updated_at = $2, revision = revision + 1"
    : "paused = 0, next_tick_at = $3, updated_at = $2, revision = revision + 1";
  const found = await ctx.pool.query<ScheduleRow>(
    `WITH changed AS (
       UPDATE ${ctx.s}.schedules SET ${set} WHERE schedule_id = $1 AND paused = ${change.paused ? 0 : 1} RETURNING ${SCHEDULE_COLUMNS})
     SELECT ${SCHEDULE_COLUMNS} FROM changed
     UNION ALL
     SELECT ${SCHEDULE_COLUMNS} FROM ${ctx.s}.schedules WHERE schedule_id = $1 AND NOT EXISTS (SELECT 1 FROM changed)`,
    change.paused ? [change.scheduleId, change.now] : [change.scheduleId, change.now, change.nextTickAt],
  );
  const row = found.rows[0];
  return row ? toSchedule(row) : null;
}

export async function syncCodeSchedules(ctx: SqlContext, sync: CodeScheduleSync): Promise<CodeSyncResult> {
  const result: CodeSyncResult = { created: [], updated: [], takenOver: [], removed: [] };
  await inTransaction(ctx, async (client) => {
    // One sync at a time per schema: two versions of the code starting together (a rolling deploy) would
    // otherwise lock the same rows in different orders. The single-key advisory lock space is not the
    // two-key one the claim and count locks use.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`zart schedules sync ${ctx.s}`]);
    for (const schedule of sync.schedules) {
      const values = definitionValues({ ...schedule, now: sync.now });
      if ((await client.query(insertSql(ctx.s), values)).rows.length > 0) {
        result.created.push(schedule.scheduleId);
        continue;
      }
      const stored = await rowOf(ctx, client, schedule.scheduleId, "FOR UPDATE");
      if (!stored || (stored.source === "code" && stored.declared === schedule.declaredJson)) continue;
      // The insert's values without `source` ($8): the row becomes a code schedule whatever it was.
      await client.query(
        `UPDATE ${ctx.s}.schedules SET task = $2, cron = $3, timezone = $4, data = $5, overlap = $6, paused = $7, source = 'code',
           updated_at = $8, next_tick_at = $9, declared = $10, held_tick_at = CASE WHEN $7 = 1 THEN NULL ELSE held_tick_at END,
           revision = revision + 1
         WHERE schedule_id = $1`,
        [...values.slice(0, 7), ...values.slice(8)],
      );
      (stored.source === "code" ? result.updated : result.takenOver).push(schedule.scheduleId);
    }
    const removed = await client.query<{ schedule_id: string }>(
      `DELETE FROM ${ctx.s}.schedules WHERE source = 'code' AND task = ANY($1::text[]) AND NOT (schedule_id = ANY($2::text[]))
       RETURNING schedule_id`,
      [sync.tasks, sync.schedules.map((s) => s.scheduleId)],
    );
    result.removed.push(...removed.rows.map((r) => r.schedule_id));
  });
  return result;
}

/** One statement, one snapshot: the due schedules, the held ticks with their previous execution's status, the next tick. */
export async function scheduleWork(ctx: SqlContext, now: number, limit: number): Promise<ScheduleWork> {
  const found = await ctx.pool.query<{
    due: ScheduleRow[] | null;
    held: (ScheduleRow & { previous_status: string | null })[] | null;
    at: number | null;
  }>(
    `SELECT
       (SELECT json_agg(d ORDER BY d.next_tick_at) FROM (
          SELECT ${SCHEDULE_COLUMNS} FROM ${ctx.s}.schedules WHERE next_tick_at IS NOT NULL AND next_tick_at <= $1
          ORDER BY next_tick_at LIMIT $2) d) AS due,
       (SELECT json_agg(h) FROM (
          SELECT ${SCHEDULE_COLUMNS}, (SELECT e.status FROM ${ctx.s}.executions e WHERE e.id = s.last_execution_id) AS previous_status
          FROM ${ctx.s}.schedules s WHERE held_tick_at IS NOT NULL) h) AS held,
       (SELECT min(next_tick_at) FROM ${ctx.s}.schedules WHERE next_tick_at IS NOT NULL) AS at`,
    [now, limit],
  );
  const row = found.rows[0];
  return {
    due: (row?.due ?? []).map(toSchedule),
    held: (row?.held ?? []).map((r) => ({
      schedule: toSchedule(r),
      previousEnded: r.previous_status === null || ENDED.has(r.previous_status),
    })),
    nextTickAt: row?.at ?? null,
  };
}

async function previousStatus(ctx: SqlContext, client: pg.PoolClient, schedule: ScheduleRow): Promise<string | null> {
  if (schedule.last_execution_id === null) return null;
  const found = await client.query<{ status: string }>(`SELECT status FROM ${ctx.s}.executions WHERE id = $1`, [
    schedule.last_execution_id,
  ]);
  return found.rows[0]?.status ?? null;
}

export async function fireScheduleTick(ctx: SqlContext, tick: ScheduleTick): Promise<{ result: TickResult; notices: Notice[] }> {
  const notices: Notice[] = [];
  const result = await inTransaction(ctx, async (client): Promise<TickResult> => {
    const locked = await client.query<ScheduleRow>(
      `SELECT ${SCHEDULE_COLUMNS} FROM ${ctx.s}.schedules
       WHERE schedule_id = $1 AND next_tick_at = $2 AND revision = $3 AND created_at = $4 AND paused = 0 FOR UPDATE`,
      [tick.scheduleId, tick.dueAt, tick.revision, tick.createdAt],
    );
    const schedule = locked.rows[0];
    if (!schedule) return { outcome: "stale" };
    const advance = (set: string, values: unknown[] = []) =>
      client.query(`UPDATE ${ctx.s}.schedules SET next_tick_at = $2${set} WHERE schedule_id = $1`, [
        tick.scheduleId,
        tick.nextTickAt,
        ...values,
      ]);
    if (tick.execution === null) {
      await advance("");
      return { outcome: "failed" };
    }
    const decision = tickDecision(
      schedule.overlap as ScheduleRecord["overlap"],
      await previousStatus(ctx, client, schedule),
      schedule.held_tick_at,
    );
    if (decision === "skip") {
      await advance("");
      return { outcome: "skipped" };
    }
    if (decision === "hold") {
      await advance(", held_tick_at = $3", [tick.tickAt]);
      return { outcome: "held", previousExecutionId: schedule.last_execution_id as string };
    }
    const started = await insertExecution(ctx, client, tick.execution, notices);
    if (!startedHere(started, tick.scheduleId)) {
      await advance("");
      return { outcome: "failed" };
    }
    await advance(", last_tick_at = $3, last_execution_id = $4, held_tick_at = NULL", [tick.tickAt, started.execution.id]);
    return { outcome: "started", ...started };
  });
  return { result, notices };
}

export async function releaseHeldTick(ctx: SqlContext, release: HeldTickRelease): Promise<{ result: TickResult; notices: Notice[] }> {
  const notices: Notice[] = [];
  const result = await inTransaction(ctx, async (client): Promise<TickResult> => {
    const locked = await client.query<ScheduleRow>(
      `SELECT ${SCHEDULE_COLUMNS} FROM ${ctx.s}.schedules WHERE schedule_id = $1 AND held_tick_at = $2 AND revision = $3 AND created_at = $4
       FOR UPDATE`,
      [release.scheduleId, release.heldTickAt, release.revision, release.createdAt],
    );
    const schedule = locked.rows[0];
    if (!schedule) return { outcome: "stale" };
    const previous = await previousStatus(ctx, client, schedule);
    if (previous !== null && !ENDED.has(previous)) return { outcome: "not_ready" };
    if (release.execution === null) {
      await client.query(`UPDATE ${ctx.s}.schedules SET held_tick_at = NULL WHERE schedule_id = $1`, [release.scheduleId]);
      return { outcome: "failed" };
    }
    const started = await insertExecution(ctx, client, release.execution, notices);
    if (!startedHere(started, release.scheduleId)) {
      await client.query(`UPDATE ${ctx.s}.schedules SET held_tick_at = NULL WHERE schedule_id = $1`, [release.scheduleId]);
      return { outcome: "failed" };
    }
    await client.query(
      `UPDATE ${ctx.s}.schedules SET last_tick_at = $2, last_execution_id = $3, held_tick_at = NULL WHERE schedule_id = $1`,
      [release.scheduleId, release.heldTickAt, started.execution.id],
    );
    return { outcome: "started", ...started };
  });
  return { result, notices };
}
