/**
 * The columns of an execution row, as both stores name and type them. Transitions (transitions.ts) are
 * written against these names, the stores' SQL is generated from them, and `ExecutionRow` is what both
 * stores return and what the pure `applyTransition` works on, so a stored row and a computed one compare
 * field by field.
 *
 * Types: `text`, `bigint` (epoch milliseconds, counters that may grow), `int`, and `flag` (0 or 1 in both
 * stores: SQLite has no boolean, and one representation keeps the generated SQL the same).
 */

export type ColumnType = "text" | "bigint" | "int" | "flag";

export const EXECUTION_COLUMN_TYPES = {
  id: "text",
  task: "text",
  status: "text",
  data: "text",
  idempotency_key: "text",
  created_at: "bigint",
  updated_at: "bigint",
  started_at: "bigint",
  completed_at: "bigint",
  output: "text",
  error: "text",
  steps_completed: "int",
  current_step: "text",
  waiting_for_event: "text",
  attempt: "int",
  runnable_at: "bigint",
  lease_token: "bigint",
  lease_owner: "text",
  timeout_from: "bigint",
  crashes: "int",
  wake_requested: "flag",
  parent_id: "text",
  parent_step: "text",
  cancel_with_parent: "flag",
  rerun_of: "text",
  schedule_id: "text",
  priority: "int",
  concurrency_key: "text",
  concurrency_limit: "int",
  start_at: "bigint",
  traceparent: "text",
  buffered_events: "int",
} as const satisfies Record<string, ColumnType>;

export type ExecutionColumn = keyof typeof EXECUTION_COLUMN_TYPES;

export const EXECUTION_COLUMN_NAMES = Object.keys(EXECUTION_COLUMN_TYPES) as ExecutionColumn[];

/** The SELECT list of every execution read. */
export const EXECUTION_COLUMNS = EXECUTION_COLUMN_NAMES.join(", ");

type SqlValue<T extends ColumnType> = T extends "text" ? string : number;

/**
 * An execution row as stored. Nullable columns are those the schema declares NULL; the others always
 * hold a value (see the schema files).
 */
export type ExecutionRow = {
  [C in ExecutionColumn]: C extends NotNullColumn
    ? SqlValue<(typeof EXECUTION_COLUMN_TYPES)[C]>
    : SqlValue<(typeof EXECUTION_COLUMN_TYPES)[C]> | null;
};

type NotNullColumn =
  | "id"
  | "task"
  | "status"
  | "data"
  | "created_at"
  | "updated_at"
  | "steps_completed"
  | "attempt"
  | "lease_token"
  | "crashes"
  | "wake_requested"
  | "cancel_with_parent"
  | "priority"
  | "buffered_events";

/** Values of a row that nothing has written yet: the schema's defaults. */
export const ROW_DEFAULTS: Omit<ExecutionRow, "id" | "task" | "status" | "data" | "created_at" | "updated_at"> = {
  idempotency_key: null,
  started_at: null,
  completed_at: null,
  output: null,
  error: null,
  steps_completed: 0,
  current_step: null,
  waiting_for_event: null,
  attempt: 0,
  runnable_at: null,
  lease_token: 0,
  lease_owner: null,
  timeout_from: null,
  crashes: 0,
  wake_requested: 0,
  parent_id: null,
  parent_step: null,
  cancel_with_parent: 1,
  rerun_of: null,
  schedule_id: null,
  priority: 0,
  concurrency_key: null,
  concurrency_limit: null,
  start_at: null,
  traceparent: null,
  buffered_events: 0,
};
