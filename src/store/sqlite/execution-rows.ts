/**
 * Execution rows read as arrays. better-sqlite3 makes an object per row by setting each column's named
 * property, which for the 32 columns of an execution row costs more than the object literal built here from
 * the row's values (docs/decisions/027-sqlite-rows-as-arrays.md). A statement read this way returns
 * EXECUTION_COLUMNS in their order; `prepareRowStatement` checks that once, when it prepares it.
 */
import type Database from "better-sqlite3";
import { EXECUTION_COLUMN_NAMES, type ExecutionRow } from "../../state/columns.js";

export function prepareRowStatement(db: Database.Database, sql: string): Database.Statement {
  const statement = db.prepare(sql);
  const names = statement.columns().map((column) => column.name);
  if (names.join(",") !== EXECUTION_COLUMN_NAMES.join(",")) {
    throw new Error(`an execution row statement must return EXECUTION_COLUMNS in order, not ${names.join(", ")}: ${sql}`);
  }
  return statement.raw(true);
}

/** The row whose values, in EXECUTION_COLUMNS order, are `v`. */
export function rowFromValues(v: readonly unknown[]): ExecutionRow {
  return {
    id: v[0] as string,
    task: v[1] as string,
    status: v[2] as string,
    data: v[3] as string,
    idempotency_key: v[4] as string | null,
    created_at: v[5] as number,
    updated_at: v[6] as number,
    started_at: v[7] as number | null,
    completed_at: v[8] as number | null,
    output: v[9] as string | null,
    error: v[10] as string | null,
    steps_completed: v[11] as number,
    current_step: v[12] as string | null,
    waiting_for_event: v[13] as string | null,
    attempt: v[14] as number,
    runnable_at: v[15] as number | null,
    lease_token: v[16] as number,
    lease_owner: v[17] as string | null,
    timeout_from: v[18] as number | null,
    crashes: v[19] as number,
    wake_requested: v[20] as number,
    parent_id: v[21] as string | null,
    parent_step: v[22] as string | null,
    cancel_with_parent: v[23] as number,
    rerun_of: v[24] as string | null,
    schedule_id: v[25] as string | null,
    priority: v[26] as number,
    concurrency_key: v[27] as string | null,
    concurrency_limit: v[28] as number | null,
    start_at: v[29] as number | null,
    traceparent: v[30] as string | null,
    buffered_events: v[31] as number,
  };
}
