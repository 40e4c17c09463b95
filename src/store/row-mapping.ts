/**
 * Row shapes as both stores return them (the two schemas use the same column names; PostgreSQL int8
 * columns arrive as numbers through that store's type parser) and their mapping to the shared records.
 * User JSON (data, output, results) stays text end to end; only `error` (our own small ErrorInfo) is parsed.
 */
import type {
  AttemptRecord,
  ErrorInfo,
  ExecutionRecord,
  ExecutionStatus,
  StepKind,
  StepRecord,
  StepState,
  TaskRegistration,
} from "../core/types.js";
import type { ExecutionRow } from "../state/columns.js";

export const STEP_COLUMN_LIST = [
  "execution_id",
  "name",
  "kind",
  "state",
  "result",
  "error",
  "attempts",
  "wake_at",
  "schema",
  "started_at",
  "completed_at",
  "seq",
  "child_id",
  "copied_from",
  "settled_in",
  "execution_attempt",
  "attempt_started_at",
] as const;
export const STEP_COLUMNS = STEP_COLUMN_LIST.join(", ");

export const ATTEMPT_COLUMNS = "execution_id, step, attempt, execution_attempt, started_at, ended_at, error";

export interface StepRow {
  execution_id: string;
  name: string;
  kind: string;
  state: string;
  result: string | null;
  error: string | null;
  attempts: number;
  wake_at: number | null;
  schema: string | null;
  started_at: number;
  completed_at: number | null;
  seq: number;
  child_id: string | null;
  copied_from: string | null;
  settled_in: number | null;
  execution_attempt?: number | null;
  attempt_started_at?: number | null;
}

export interface AttemptRow {
  execution_id: string;
  step: string;
  attempt: number;
  execution_attempt: number;
  started_at: number;
  ended_at: number;
  error: string;
}

export interface TaskRow {
  name: string;
  input_schema: string | null;
  options: string | null;
}

export function encodeError(error: ErrorInfo | null): string | null {
  return error === null ? null : JSON.stringify(error);
}

function decodeError(text: string | null): ErrorInfo | null {
  return text === null ? null : (JSON.parse(text) as ErrorInfo);
}

export function toExecution(row: ExecutionRow): ExecutionRecord {
  return {
    id: row.id,
    task: row.task,
    // The column only ever receives ExecutionStatus values (every write is a transition's generated SQL).
    status: row.status as ExecutionStatus,
    dataJson: row.data,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    outputJson: row.output,
    error: decodeError(row.error),
    stepsCompleted: row.steps_completed,
    currentStep: row.current_step,
    waitingForEvent: row.waiting_for_event,
    attempt: row.attempt,
    runnableAt: row.runnable_at,
    leaseToken: row.lease_token,
    leaseOwner: row.lease_owner,
    timeoutFrom: row.timeout_from,
    crashes: row.crashes,
    wakeRequested: row.wake_requested === 1,
    parentId: row.parent_id,
    parentStep: row.parent_step,
    cancelWithParent: row.cancel_with_parent === 1,
    rerunOf: row.rerun_of,
    scheduleId: row.schedule_id,
    priority: row.priority,
    concurrencyKey: row.concurrency_key,
    concurrencyLimit: row.concurrency_limit,
    startAt: row.start_at,
    traceparent: row.traceparent,
    bufferedEvents: row.buffered_events,
  };
}

/** The inverse of `toExecution`, for the pure transitions the worker applies to records it holds. */
export function toRow(record: ExecutionRecord): ExecutionRow {
  return {
    id: record.id,
    task: record.task,
    status: record.status,
    data: record.dataJson,
    idempotency_key: record.idempotencyKey,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    started_at: record.startedAt,
    completed_at: record.completedAt,
    output: record.outputJson,
    error: encodeError(record.error),
    steps_completed: record.stepsCompleted,
    current_step: record.currentStep,
    waiting_for_event: record.waitingForEvent,
    attempt: record.attempt,
    runnable_at: record.runnableAt,
    lease_token: record.leaseToken,
    lease_owner: record.leaseOwner,
    timeout_from: record.timeoutFrom,
    crashes: record.crashes,
    wake_requested: record.wakeRequested ? 1 : 0,
    parent_id: record.parentId,
    parent_step: record.parentStep,
    cancel_with_parent: record.cancelWithParent ? 1 : 0,
    rerun_of: record.rerunOf,
    schedule_id: record.scheduleId,
    priority: record.priority,
    concurrency_key: record.concurrencyKey,
    concurrency_limit: record.concurrencyLimit,
    start_at: record.startAt,
    traceparent: record.traceparent,
    buffered_events: record.bufferedEvents,
  };
}

export function toStep(row: StepRow): StepRecord {
  return {
    executionId: row.execution_id,
    name: row.name,
    kind: row.kind as StepKind,
    state: row.state as StepState,
    resultJson: row.result,
    error: decodeError(row.error),
    attempts: row.attempts,
    wakeAt: row.wake_at,
    schemaJson: row.schema,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    seq: row.seq,
    childId: row.child_id,
    copiedFrom: row.copied_from,
    settledIn: row.settled_in,
  };
}

/** A step record as the column values of its row, in STEP_COLUMN_LIST order (the id is the fence's). */
export function stepValues(executionId: string, step: StepRecord): unknown[] {
  return [
    executionId,
    step.name,
    step.kind,
    step.state,
    step.resultJson,
    encodeError(step.error),
    step.attempts,
    step.wakeAt,
    step.schemaJson,
    step.startedAt,
    step.completedAt,
    step.seq,
    step.childId,
    step.copiedFrom,
    step.settledIn,
    step.executionAttempt ?? null,
    step.attemptStartedAt ?? null,
  ];
}

export function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    executionId: row.execution_id,
    step: row.step,
    attempt: row.attempt,
    executionAttempt: row.execution_attempt,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: JSON.parse(row.error) as ErrorInfo,
  };
}

export function toTask(row: TaskRow): TaskRegistration {
  return { name: row.name, inputSchemaJson: row.input_schema, options: row.options === null ? {} : JSON.parse(row.options) };
}
