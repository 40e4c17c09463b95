/**
 * Workers' heartbeats and the task list (operations.md §1). The `workers` table holds one small row per
 * worker process; a heartbeat is one statement (an upsert that also prunes rows a day old), every third
 * of a lease period, never a write per execution.
 */
import {
  assembleTasks,
  type TaskSummary,
  toWorker,
  WORKER_ROW_RETENTION_MS,
  type WorkerBeat,
  type WorkerRecord,
  type WorkerRow,
} from "../operations.js";
import { prepared, type SqlContext } from "./sql-context.js";

export async function heartbeat(ctx: SqlContext, beat: WorkerBeat): Promise<void> {
  await ctx.pool.query(
    prepared(
      ctx,
      "heartbeat",
      () => `WITH pruned AS (DELETE FROM ${ctx.s}.workers WHERE last_seen_at < $10 AND worker_id <> $1)
  INSERT INTO ${ctx.s}.workers (worker_id, host, pid, tasks, concurrency, running, lease_ms, started_at, last_seen_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, tasks = excluded.tasks,
    concurrency = excluded.concurrency, running = excluded.running, lease_ms = excluded.lease_ms,
    last_seen_at = excluded.last_seen_at`,
      [
        beat.workerId,
        beat.host,
        beat.pid,
        JSON.stringify(beat.tasks),
        beat.concurrency,
        beat.running,
        beat.leaseMs,
        beat.startedAt,
        beat.now,
        beat.now - WORKER_ROW_RETENTION_MS,
      ],
    ),
  );
}

export async function removeWorker(ctx: SqlContext, workerId: string): Promise<void> {
  await ctx.pool.query(`DELETE FROM ${ctx.s}.workers WHERE worker_id = $1`, [workerId]);
}

export async function listWorkers(ctx: SqlContext, now: number): Promise<WorkerRecord[]> {
  const found = await ctx.pool.query<WorkerRow>(
    `SELECT * FROM ${ctx.s}.workers WHERE last_seen_at + 2 * lease_ms >= $1 ORDER BY worker_id`,
    [now],
  );
  return found.rows.map(toWorker);
}

/** Counts (folded and pending deltas), worker rows and registrations, in one statement (one snapshot). */
export async function listTasks(ctx: SqlContext, now: number): Promise<TaskSummary[]> {
  const s = ctx.s;
  const found = await ctx.pool.query<{
    counts: { task: string; status: string; n: number }[] | null;
    workers: WorkerRow[] | null;
    schemas: { name: string; input_schema: string | null }[] | null;
  }>(`SELECT
  (SELECT json_agg(c) FROM (
     SELECT task, status, SUM(n)::bigint AS n FROM (
       SELECT task, status, n FROM ${s}.status_counts UNION ALL SELECT task, status, delta::bigint FROM ${s}.count_deltas
     ) d GROUP BY task, status HAVING SUM(n) > 0) c) AS counts,
  (SELECT json_agg(w) FROM ${s}.workers w) AS workers,
  (SELECT json_agg(t) FROM (SELECT name, input_schema FROM ${s}.tasks) t) AS schemas`);
  const row = found.rows[0];
  const schemas = new Map((row?.schemas ?? []).map((t) => [t.name, t.input_schema]));
  return assembleTasks(row?.counts ?? [], (row?.workers ?? []).map(toWorker), schemas, now);
}
