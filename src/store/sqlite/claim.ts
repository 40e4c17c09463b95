/**
 * The worker side's read-and-take: claims and the next wake-up. Everything a worker may pick up is found
 * through `runnable_at`, so new work, due timers, ended backoffs and expired leases (crash recovery) are
 * all one query on one partial index.
 */
import type { ClaimedExecution, ClaimRequest } from "../store.js";
import { EXECUTION_COLUMNS, type ExecutionRow, STEP_COLUMNS, type StepRow, toExecution, toStep } from "./row-mapping.js";
import type { Connection } from "./statement-cache.js";

// INDEXED BY turns a planner change into an error instead of a silent full scan: with `task IN (...)` the
// planner could otherwise prefer a task index and sort every due row. Task lists travel as one JSON
// parameter so the statement text (and its prepared statement) does not depend on how many tasks there are.
export const SELECT_DUE = `
  SELECT id, started_at FROM executions INDEXED BY executions_runnable
  WHERE runnable_at IS NOT NULL AND runnable_at <= ? AND task IN (SELECT value FROM json_each(?))
  ORDER BY runnable_at, id
  LIMIT ?`;

export const TAKE = `
  UPDATE executions
  SET status = 'running', lease_token = lease_token + 1, lease_owner = ?, runnable_at = ?,
      started_at = COALESCE(started_at, ?), attempt = MAX(attempt, 1), updated_at = ?
  WHERE id = ?
  RETURNING ${EXECUTION_COLUMNS}`;

export const SELECT_STEPS = `SELECT ${STEP_COLUMNS} FROM steps WHERE execution_id = ? ORDER BY started_at, name`;

export const NEXT_WAKE = `
  SELECT runnable_at FROM executions INDEXED BY executions_runnable
  WHERE runnable_at IS NOT NULL AND task IN (SELECT value FROM json_each(?))
  ORDER BY runnable_at
  LIMIT 1`;

export function claim(conn: Connection, request: ClaimRequest): ClaimedExecution[] {
  if (request.limit <= 0 || request.tasks.length === 0) return [];
  const { workerId, now, leaseMs } = request;
  const run = conn.db.transaction((): ClaimedExecution[] => {
    const due = conn.sql.get(SELECT_DUE).all(now, JSON.stringify(request.tasks), request.limit) as {
      id: string;
      started_at: number | null;
    }[];
    return due.map(({ id, started_at }) => {
      const row = conn.sql.get(TAKE).get(workerId, now + leaseMs, now, now, id) as ExecutionRow;
      // An execution that never started has no steps; skipping the query keeps a claim of new work cheap.
      const steps = started_at === null ? [] : (conn.sql.get(SELECT_STEPS).all(id) as StepRow[]).map(toStep);
      return { execution: toExecution(row), steps };
    });
  });
  return run.immediate();
}

export function nextWakeAt(conn: Connection, tasks: readonly string[]): number | null {
  if (tasks.length === 0) return null;
  const row = conn.sql.get(NEXT_WAKE).get(JSON.stringify(tasks)) as { runnable_at: number } | undefined;
  return row?.runnable_at ?? null;
}
