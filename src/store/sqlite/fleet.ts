/**
 * Workers' heartbeats and the task list (operations.md §1). The `workers` table holds one small row per
 * worker process; a heartbeat is one upsert (plus pruning rows a day old), every third of a lease period,
 * never a write per execution.
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
import type { Connection } from "./statement-cache.js";

const UPSERT_WORKER = `
  INSERT INTO workers (worker_id, host, pid, tasks, concurrency, running, lease_ms, started_at, last_seen_at)
  VALUES (@workerId, @host, @pid, @tasks, @concurrency, @running, @leaseMs, @startedAt, @now)
  ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, tasks = excluded.tasks,
    concurrency = excluded.concurrency, running = excluded.running, lease_ms = excluded.lease_ms,
    last_seen_at = excluded.last_seen_at`;
const PRUNE_WORKERS = "DELETE FROM workers WHERE last_seen_at < ?";
const DELETE_WORKER = "DELETE FROM workers WHERE worker_id = ?";
const LIVE_WORKERS = "SELECT * FROM workers WHERE last_seen_at + 2 * lease_ms >= ? ORDER BY worker_id";
const ALL_WORKERS = "SELECT * FROM workers";
const TASK_COUNTS = "SELECT task, status, n FROM status_counts WHERE n > 0";
const TASK_SCHEMAS = "SELECT name, input_schema FROM tasks";

export function heartbeat(conn: Connection, beat: WorkerBeat): void {
  const run = conn.db.transaction(() => {
    conn.sql.get(UPSERT_WORKER).run({ ...beat, tasks: JSON.stringify(beat.tasks) });
    conn.sql.get(PRUNE_WORKERS).run(beat.now - WORKER_ROW_RETENTION_MS);
  });
  run.immediate();
}

export function removeWorker(conn: Connection, workerId: string): void {
  conn.sql.get(DELETE_WORKER).run(workerId);
}

export function listWorkers(conn: Connection, now: number): WorkerRecord[] {
  return (conn.sql.get(LIVE_WORKERS).all(now) as WorkerRow[]).map(toWorker);
}

export function listTasks(conn: Connection, now: number): TaskSummary[] {
  const read = conn.db.transaction(() => {
    const counts = conn.sql.get(TASK_COUNTS).all() as { task: string; status: string; n: number }[];
    const workers = (conn.sql.get(ALL_WORKERS).all() as WorkerRow[]).map(toWorker);
    const schemas = conn.sql.get(TASK_SCHEMAS).all() as { name: string; input_schema: string | null }[];
    return assembleTasks(counts, workers, new Map(schemas.map((s) => [s.name, s.input_schema])), now);
  });
  return read.deferred();
}
