/**
 * API-side writes: schedule, cancel, deliver an event. Each is one IMMEDIATE transaction whose checks and
 * write see the same committed state, so races between processes (same idempotency key, two deliveries,
 * two cancels) resolve in the database, not in a check-then-act window.
 */
import type { ExecutionRecord } from "../../core/types.js";
import { batchNotices, creationNotices, finishedColumns } from "../creation-notices.js";
import type { CancelOutcome, CreateResult, DeliverOutcome, DeliverRequest, NewExecution, NewQueuedExecution, Notice } from "../store.js";
import { applyCheckpoints } from "./checkpoint-writer.js";
import { SELECT_STEPS, TAKE } from "./claim.js";
import { EXECUTION_COLUMNS, type ExecutionRow, type StepRow, toExecution, toStep } from "./row-mapping.js";
import type { Connection } from "./statement-cache.js";

// The conflict target names the partial unique index, so a duplicate *id* still raises an error (ids are
// random; a clash is a bug to surface, not an idempotent replay to hide).
const INSERT_EXECUTION = `
  INSERT INTO executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at)
  VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${EXECUTION_COLUMNS}`;

// Eager start (see NewExecution.claimFor): the row is born claimed, as a claim would leave it.
const INSERT_CLAIMED = `
  INSERT INTO executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at,
                          started_at, attempt, lease_token, lease_owner)
  VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, 1, 1, ?)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${EXECUTION_COLUMNS}`;

// An eager run that ended before its insert was written (see NewExecution.finished): born in its final state.
const INSERT_FINISHED = `
  INSERT INTO executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at,
                          started_at, completed_at, attempt, lease_token, output, error, steps_completed)
  VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 1, 1, ?, ?, ?)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${EXECUTION_COLUMNS}`;

const SELECT_BY_KEY = `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE idempotency_key = ?`;

export const SELECT_BY_ID = `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE id = ?`;

// lease_token is left alone: the holder is fenced out by status <> 'running' already.
const CANCEL = `
  UPDATE executions
  SET status = 'cancelled', completed_at = ?, runnable_at = NULL, current_step = NULL, waiting_for_event = NULL,
      lease_owner = NULL, updated_at = ?
  WHERE id = ?
  RETURNING ${EXECUTION_COLUMNS}`;

const SELECT_EVENT_WAIT = `
  SELECT schema FROM steps WHERE execution_id = ? AND name = ? AND kind = 'event' AND state = 'waiting'`;

const RECORD_EVENT = "UPDATE steps SET state = 'completed', result = ?, completed_at = ? WHERE execution_id = ? AND name = ?";

const WAKE_FOR_EVENT = `
  UPDATE executions
  SET status = 'pending', runnable_at = ?, waiting_for_event = NULL, current_step = NULL,
      steps_completed = steps_completed + 1, updated_at = ?
  WHERE id = ?`;

export function createExecution(conn: Connection, input: NewExecution): { result: CreateResult; notices: Notice[] } {
  const run = conn.db.transaction((): CreateResult => {
    const inserted = conn.sql.get(insertSql(input)).get(...insertValues(input)) as ExecutionRow | undefined;
    if (inserted) return { execution: toExecution(inserted), created: true };
    const existing = conn.sql.get(SELECT_BY_KEY).get(input.idempotencyKey) as ExecutionRow | undefined;
    if (!existing) throw new Error(`Insert of execution ${input.id} was skipped but no row holds its idempotency key`);
    return { execution: toExecution(existing), created: false };
  });
  const result = run.immediate();
  return { result, notices: result.created ? creationNotices(input) : [] };
}

function insertSql(input: NewExecution): string {
  return input.finished ? INSERT_FINISHED : input.claimFor ? INSERT_CLAIMED : INSERT_EXECUTION;
}

function insertValues(input: NewExecution): unknown[] {
  const { id, task, dataJson, idempotencyKey, now, claimFor, finished } = input;
  if (finished) {
    const { output, error } = finishedColumns(finished);
    return [
      id,
      task,
      finished.status,
      dataJson,
      idempotencyKey,
      now,
      finished.at,
      now,
      finished.at,
      output,
      error,
      finished.stepsCompleted,
    ];
  }
  if (claimFor) return [id, task, dataJson, idempotencyKey, now, now, now + claimFor.leaseMs, now, claimFor.workerId];
  return [id, task, dataJson, idempotencyKey, now, now, now];
}

/** A batch in one transaction (a nested createExecution is a savepoint); one runnable notice per task. */
export function createExecutions(conn: Connection, inputs: readonly NewQueuedExecution[]): { results: CreateResult[]; notices: Notice[] } {
  const results = conn.db.transaction(() => inputs.map((input) => createExecution(conn, input).result)).immediate();
  return { results, notices: batchNotices(inputs, results) };
}

export interface CancelResult {
  outcome: CancelOutcome;
  execution: ExecutionRecord | null;
}

export function cancelExecution(conn: Connection, id: string, now: number): { result: CancelResult; notices: Notice[] } {
  const run = conn.db.transaction((): { result: CancelResult; notices: Notice[] } => {
    const row = conn.sql.get(SELECT_BY_ID).get(id) as ExecutionRow | undefined;
    if (!row) return { result: { outcome: "not_found", execution: null }, notices: [] };
    const current = toExecution(row);
    if (row.status === "cancelled") return { result: { outcome: "already_cancelled", execution: current }, notices: [] };
    if (row.status === "completed" || row.status === "failed") {
      return { result: { outcome: "not_cancellable", execution: current }, notices: [] };
    }
    const after = toExecution(conn.sql.get(CANCEL).get(now, now, id) as ExecutionRow);
    const notices: Notice[] = [{ kind: "terminal", executionId: id, status: "cancelled" }];
    if (row.status === "running") notices.push({ kind: "cancelled", executionId: id });
    return { result: { outcome: "cancelled", execution: after }, notices };
  });
  return run.immediate();
}

/** Checks in the contract's order: unknown execution, not waiting for that event, payload refused by its schema. */
export function deliverEvent(conn: Connection, request: DeliverRequest): { result: DeliverOutcome; notices: Notice[] } {
  const { executionId, eventName, payloadJson, now } = request;
  const run = conn.db.transaction((): { result: DeliverOutcome; notices: Notice[] } => {
    const row = conn.sql.get(SELECT_BY_ID).get(executionId) as ExecutionRow | undefined;
    if (!row) return { result: { outcome: "not_found" }, notices: [] };
    const wait = conn.sql.get(SELECT_EVENT_WAIT).get(executionId, eventName) as { schema: string | null } | undefined;
    if (row.status !== "waiting" || !wait) return { result: { outcome: "not_waiting" }, notices: [] };
    if (wait.schema !== null && request.validate) {
      const message = request.validate(wait.schema, payloadJson);
      if (message !== null) return { result: { outcome: "invalid", message }, notices: [] };
    }
    conn.sql.get(RECORD_EVENT).run(payloadJson, now, executionId, eventName);
    conn.sql.get(WAKE_FOR_EVENT).run(now, now, executionId);
    const claimFor = request.claimFor;
    if (claimFor?.tasks.includes(row.task)) {
      const taken = conn.sql.get(TAKE).get(claimFor.workerId, now + claimFor.leaseMs, now, now, executionId) as ExecutionRow;
      const steps = (conn.sql.get(SELECT_STEPS).all(executionId) as StepRow[]).map(toStep);
      const claimed = { execution: toExecution(taken), steps };
      const finish = request.finishIfToken;
      if (finish && taken.lease_token === finish.leaseToken) {
        const { at, ...patch } = finish.finished;
        const { notices } = applyCheckpoints(conn, [{ fence: { executionId, leaseToken: finish.leaseToken }, now: at, execution: patch }]);
        return { result: { outcome: "delivered", task: row.task, claimed, finished: true }, notices };
      }
      return { result: { outcome: "delivered", task: row.task, claimed }, notices: [] };
    }
    return { result: { outcome: "delivered", task: row.task }, notices: [{ kind: "runnable", task: row.task, at: now }] };
  });
  return run.immediate();
}
