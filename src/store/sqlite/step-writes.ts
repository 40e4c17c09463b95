/**
 * Writes to the tables beside `executions` that a transition carries: step records, failed attempts,
 * buffered events. Callers run them inside their own transaction.
 */
import type { AttemptRecord, StepRecord } from "../../core/types.js";
import { encodeError, STEP_COLUMN_LIST, STEP_COLUMNS, stepValues } from "../row-mapping.js";
import type { Connection } from "./statement-cache.js";

// A record in a final state (completed, failed) is never overwritten - an event delivered while the run
// was still going, or a child that ended, stays delivered when that run later parks on the wait - except
// to be set aside as `discarded` by a task-level retry.
const UPSERT_STEP = `
  INSERT INTO steps (${STEP_COLUMNS}) VALUES (${STEP_COLUMN_LIST.map(() => "?").join(", ")})
  ON CONFLICT (execution_id, name) DO UPDATE SET
    kind = excluded.kind, state = excluded.state, result = excluded.result, error = excluded.error,
    attempts = excluded.attempts, wake_at = excluded.wake_at, schema = excluded.schema,
    started_at = excluded.started_at, completed_at = excluded.completed_at, seq = excluded.seq,
    child_id = excluded.child_id, copied_from = excluded.copied_from, settled_in = excluded.settled_in,
    execution_attempt = COALESCE(excluded.execution_attempt, steps.execution_attempt),
    attempt_started_at = COALESCE(excluded.attempt_started_at, steps.attempt_started_at)
  WHERE steps.state NOT IN ('completed', 'failed') OR excluded.state = 'discarded'`;

const INSERT_ATTEMPT = `
  INSERT INTO step_attempts (execution_id, step, attempt, execution_attempt, started_at, ended_at, error)
  VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

const DELETE_EVENT = "DELETE FROM events WHERE id = ? AND execution_id = ?";

/** Rows are keyed by `executionId` (the fence's), never by ids inside the records. */
export function writeSteps(conn: Connection, executionId: string, steps: readonly StepRecord[] = []): void {
  for (const step of steps) conn.sql.get(UPSERT_STEP).run(...stepValues(executionId, step));
}

export function writeAttempts(conn: Connection, executionId: string, attempts: readonly AttemptRecord[] = []): void {
  for (const a of attempts) {
    conn.sql.get(INSERT_ATTEMPT).run(executionId, a.step, a.attempt, a.executionAttempt, a.startedAt, a.endedAt, encodeError(a.error));
  }
}

export function consumeEvents(conn: Connection, executionId: string, ids: readonly number[] = []): void {
  for (const id of ids) conn.sql.get(DELETE_EVENT).run(id, executionId);
}
