/**
 * API-side writes beside creation (create.ts): cancel, deliver an event. Each is one IMMEDIATE transaction whose checks and
 * write see the same committed state, so races between processes (same idempotency key, two deliveries,
 * two cancels) resolve in the database, not in a check-then-act window.
 */
import type { ExecutionRecord } from "../../core/types.js";
import { EXECUTION_COLUMNS, type ExecutionRow } from "../../state/columns.js";
import { COMPOSITES } from "../../state/composites.js";
import { TRANSITIONS } from "../../state/transitions.js";
import { type StepRow, toExecution, toStep } from "../row-mapping.js";
import type { BufferedEvent, CancelOutcome, ClaimedExecution, DeliverOutcome, DeliverRequest, Notice } from "../store.js";
import { cancelledNotices, rowNotice, TERMINAL } from "../writes.js";
import { applyCheckpoint } from "./checkpoint-writer.js";
import { applyConsequences } from "./consequences.js";
import type { Connection } from "./statement-cache.js";
import { transitionSql } from "./transition-statements.js";

export const SELECT_BY_ID = `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE id = ?`;
export const SELECT_STEPS = "SELECT * FROM steps WHERE execution_id = ? ORDER BY seq, started_at, name";
const SELECT_EVENTS = "SELECT id, name, payload AS payloadJson, created_at AS createdAt FROM events WHERE execution_id = ? ORDER BY id";

const SELECT_EVENT_WAIT = "SELECT schema, wake_at FROM steps WHERE execution_id = ? AND name = ? AND kind = 'event' AND state = 'waiting'";
// settled_in: the next run of the execution is the first to see the event (StepRecord.settledIn).
const RECORD_EVENT = `UPDATE steps SET state = 'completed', result = ?, completed_at = ?,
  settled_in = (SELECT lease_token + 1 FROM executions WHERE id = steps.execution_id) WHERE execution_id = ? AND name = ?`;
// A wait of that name the worker already timed out (the only way an event wait fails).
const TIMED_OUT_WAIT = "SELECT 1 AS yes FROM steps WHERE execution_id = ? AND name = ? AND kind = 'event' AND state = 'failed'";
/** An open wait or backoff of the execution due by `?`: the row's wake-up is its, not the execution's deadline. */
const OPEN_WAKE_BY =
  "SELECT 1 AS yes FROM steps WHERE execution_id = ? AND state IN ('waiting', 'retrying') AND wake_at IS NOT NULL AND wake_at <= ? LIMIT 1";
const BUFFERS_EVENTS = "SELECT json_extract(options, '$.bufferedEvents') = 1 AS yes FROM tasks WHERE name = ?";
const BUFFER_EVENT = "INSERT INTO events (execution_id, name, payload, created_at) VALUES (?, ?, ?, ?)";
const DESCENDANTS = `
  WITH RECURSIVE d(id) AS (
    SELECT id FROM executions WHERE parent_id = ? AND cancel_with_parent = 1
    UNION SELECT e.id FROM executions e JOIN d ON e.parent_id = d.id WHERE e.cancel_with_parent = 1
  ) SELECT id FROM d`;

export interface CancelResult {
  outcome: CancelOutcome;
  execution: ExecutionRecord | null;
}

export function cancelExecution(conn: Connection, id: string, now: number): { result: CancelResult; notices: Notice[] } {
  return conn.sql.transaction(cancelIn).immediate(conn, id, now);
}

function cancelIn(conn: Connection, id: string, now: number): { result: CancelResult; notices: Notice[] } {
  const row = conn.sql.executionRow(SELECT_BY_ID, id);
  if (!row) return { result: { outcome: "not_found", execution: null }, notices: [] };
  // Notices again: a repeat may follow a cancel whose reply (and notices) were lost with its connection.
  if (row.status === "cancelled")
    return { result: { outcome: "already_cancelled", execution: toExecution(row) }, notices: cancelledNotices(id) };
  if (TERMINAL.has(row.status)) return { result: { outcome: "not_cancellable", execution: toExecution(row) }, notices: [] };
  const notices: Notice[] = [];
  const after = cancelOne(conn, row, now, notices) as ExecutionRow;
  for (const { id: child } of conn.sql.get(DESCENDANTS).all(id) as { id: string }[]) {
    const descendant = conn.sql.executionRow(SELECT_BY_ID, child) as ExecutionRow;
    if (!TERMINAL.has(descendant.status)) cancelOne(conn, descendant, now, notices);
  }
  return { result: { outcome: "cancelled", execution: toExecution(after) }, notices };
}

function cancelOne(conn: Connection, row: ExecutionRow, now: number, notices: Notice[]): ExecutionRow | undefined {
  const after = conn.sql.executionRow(transitionSql(TRANSITIONS.cancel), { id: row.id, now });
  if (!after) return undefined;
  notices.push({ kind: "terminal", executionId: row.id, status: "cancelled" });
  if (row.status === "running") notices.push({ kind: "cancelled", executionId: row.id });
  applyConsequences(conn, row.status, after, now, notices);
  return after;
}

/**
 * Checks in the contract's order: unknown execution, not waiting for that event (with the reason), payload
 * refused by its schema. A task with buffered events stores an event no wait is open for yet.
 */
export function deliverEvent(conn: Connection, request: DeliverRequest): { result: DeliverOutcome; notices: Notice[] } {
  return conn.sql.transaction(deliverIn).immediate(conn, request);
}

function deliverIn(conn: Connection, request: DeliverRequest): { result: DeliverOutcome; notices: Notice[] } {
  const { executionId, eventName, payloadJson, now } = request;
  const row = conn.sql.executionRow(SELECT_BY_ID, executionId);
  if (!row) return { result: { outcome: "not_found" }, notices: [] };
  if (TERMINAL.has(row.status)) return { result: { outcome: "not_waiting", reason: "ended" }, notices: [] };
  const wait = conn.sql.get(SELECT_EVENT_WAIT).get(executionId, eventName) as { schema: string | null; wake_at: number | null } | undefined;
  if (!wait) {
    // Refused the same way whether or not a worker has recorded the timeout yet (see below).
    if (conn.sql.get(TIMED_OUT_WAIT).get(executionId, eventName) !== undefined) {
      return { result: { outcome: "not_waiting", reason: "timed_out" }, notices: [] };
    }
    const buffers = conn.sql.get(BUFFERS_EVENTS).get(row.task) as { yes: number } | undefined;
    if (buffers?.yes !== 1) return { result: { outcome: "not_waiting", reason: "no_wait" }, notices: [] };
    conn.sql.get(BUFFER_EVENT).run(executionId, eventName, payloadJson, now);
    conn.sql.get(transitionSql(TRANSITIONS.buffer_event)).get({ id: executionId, now });
    return { result: { outcome: "buffered", task: row.task }, notices: [] };
  }
  // A wait whose deadline passed has timed out, whether or not a worker has recorded it yet.
  if (wait.wake_at !== null && now >= wait.wake_at) return { result: { outcome: "not_waiting", reason: "timed_out" }, notices: [] };
  if (pastDeadline(conn, row, now)) return { result: { outcome: "not_waiting", reason: "deadline" }, notices: [] };
  if (wait.schema !== null && request.validate) {
    const message = request.validate(wait.schema, payloadJson);
    if (message !== null) return { result: { outcome: "invalid", message }, notices: [] };
  }
  conn.sql.get(RECORD_EVENT).run(payloadJson, now, executionId, eventName);
  const claimFor = request.claimFor;
  if (claimFor && row.status === "waiting" && row.concurrency_limit === null && claimFor.tasks.includes(row.task)) {
    return deliverClaimed(conn, request, row.task);
  }
  const after = conn.sql.executionRow(transitionSql(TRANSITIONS.deliver), { id: executionId, now }) as ExecutionRow;
  const notice = rowNotice(after);
  return { result: { outcome: "delivered", task: row.task }, notices: notice ? [notice] : [] };
}

/**
 * A parked execution wakes at its earliest wait, backoff or task deadline (whichever comes first): due, with
 * no open wait or backoff due by then, it woke for its deadline and fails with `timeout` when claimed.
 */
function pastDeadline(conn: Connection, row: ExecutionRow, now: number): boolean {
  if (row.status !== "waiting" || row.runnable_at === null || now < row.runnable_at) return false;
  return conn.sql.get(OPEN_WAKE_BY).get(row.id, row.runnable_at) === undefined;
}

/** Eager resume: delivered and claimed in one write, and finished too when the caller's run already ended. */
function deliverClaimed(conn: Connection, request: DeliverRequest, task: string): { result: DeliverOutcome; notices: Notice[] } {
  const { executionId, now } = request;
  const claimFor = request.claimFor as NonNullable<DeliverRequest["claimFor"]>;
  const params = { id: executionId, now, worker: claimFor.workerId, lease_ms: claimFor.leaseMs };
  const taken = conn.sql.executionRow(transitionSql(COMPOSITES.deliver_claimed), params) as ExecutionRow;
  const claimed = claimedFrom(conn, taken);
  const finish = request.finishIfToken;
  if (!finish || taken.lease_token !== finish.leaseToken) return { result: { outcome: "delivered", task, claimed }, notices: [] };
  const { at, stepsCompleted, ...end } = finish.finished;
  const notices: Notice[] = [];
  applyCheckpoint(
    conn,
    {
      fence: { executionId, leaseToken: finish.leaseToken },
      owner: { task, parentId: taken.parent_id, parentStep: taken.parent_step, concurrencyKey: null, concurrencyLimit: null },
      now: at,
      patch:
        end.transition === "complete" ? { transition: "complete", outputJson: end.outputJson } : { transition: "fail", error: end.error },
      stepsCompleted,
      crashes: 0,
    },
    notices,
  );
  return { result: { outcome: "delivered", task, claimed, finished: true }, notices };
}

/** A row just claimed, with what its replay needs: its steps (none when it never ran and copied none) and any buffered events. */
export function claimedFrom(conn: Connection, row: ExecutionRow, fresh = false, recovered = false): ClaimedExecution {
  const steps = fresh ? [] : (conn.sql.get(SELECT_STEPS).all(row.id) as StepRow[]).map(toStep);
  const events = row.buffered_events > 0 ? (conn.sql.get(SELECT_EVENTS).all(row.id) as BufferedEvent[]) : [];
  return { execution: toExecution(row), steps, events, recovered };
}
