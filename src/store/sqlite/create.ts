/**
 * Creating executions: one, or many in one transaction. The idempotency key is enforced by its unique
 * index (ON CONFLICT DO NOTHING, then the holder is read in the same transaction), never by a
 * check-then-insert.
 */
import { applyTransition } from "../../state/apply.js";
import { EXECUTION_COLUMNS } from "../../state/columns.js";
import { toExecution } from "../row-mapping.js";
import type { CreateResult, NewExecution, NewQueuedExecution, Notice } from "../store.js";
import { creationNotices, creationParams, creationTransition, mergeRunnable } from "../writes.js";
import type { Connection } from "./statement-cache.js";
import { writeSteps } from "./step-writes.js";
import { insertSql } from "./transition-statements.js";

const SELECT_BY_KEY = `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE idempotency_key = ?`;

/**
 * Inserts the execution (or finds the holder of its key) inside the caller's transaction. The row inserted
 * is what its transition makes of its parameters (the behaviour suite holds the store to that), so it is
 * built here rather than read back (docs/decisions/035-sqlite-insert-built.md).
 */
export function insertExecution(conn: Connection, input: NewExecution, notices: Notice[]): CreateResult {
  const transition = creationTransition(input);
  const params = creationParams(input);
  if (conn.sql.get(insertSql(transition)).run(params).changes > 0) {
    const inserted = applyTransition(null, transition, params);
    writeSteps(conn, input.id, input.steps);
    notices.push(...creationNotices(inserted));
    return { execution: toExecution(inserted), created: true };
  }
  const existing = conn.sql.executionRow(SELECT_BY_KEY, input.idempotencyKey);
  if (!existing) throw new Error(`Insert of execution ${input.id} was skipped but no row holds its idempotency key`);
  return { execution: toExecution(existing), created: false };
}

export function createExecution(conn: Connection, input: NewExecution): { result: CreateResult; notices: Notice[] } {
  const notices: Notice[] = [];
  const result = conn.sql.transaction(insertExecution).immediate(conn, input, notices);
  return { result, notices };
}

/** A batch in one transaction (a nested call is a savepoint); one runnable notice per task. */
export function createExecutions(conn: Connection, inputs: readonly NewQueuedExecution[]): { results: CreateResult[]; notices: Notice[] } {
  const notices: Notice[] = [];
  const results = conn.sql.transaction(insertAll).immediate(conn, inputs, notices);
  return { results, notices: mergeRunnable(notices) };
}

function insertAll(conn: Connection, inputs: readonly NewExecution[], notices: Notice[]): CreateResult[] {
  return inputs.map((input) => insertExecution(conn, input, notices));
}
