/**
 * Row shapes as both stores return them (the two schemas use the same column names; Postgres int8 columns
 * arrive as numbers through that store's type parser) and their mapping to the shared records. User JSON
 * (data, output, results) stays text end to end; only `error` (our own small ErrorInfo) is parsed.
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

export const EXECUTION_COLUMNS =
  "id, task, status, data, idempotency_key, created_at, updated_at, started_at, completed_at, output, error, " +
  "steps_completed, current_step, waiting_for_event, attempt, runnable_at, lease_token, lease_owner";

export const STEP_COLUMNS = "execution_id, name, kind, state, result, error, attempts, wake_at, schema, started_at, completed_at";

export const ATTEMPT_COLUMNS = "execution_id, step, attempt, started_at, ended_at, error";

export interface ExecutionRow {
  id: string;
  task: string;
  status: string;
  data: string;
  idempotency_key: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
  output: string | null;
  error: string | null;
  steps_completed: number;
  current_step: string | null;
  waiting_for_event: string | null;
  attempt: number;
  runnable_at: number | null;
  lease_token: number;
  lease_owner: string | null;
}

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
}

export interface AttemptRow {
  execution_id: string;
  step: string;
  attempt: number;
  started_at: number;
  ended_at: number;
  error: string;
}

export interface TaskRow {
  name: string;
  input_schema: string | null;
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
    // The column only ever receives ExecutionStatus values (every write is the stores' own SQL).
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
  };
}

export function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    executionId: row.execution_id,
    step: row.step,
    attempt: row.attempt,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: JSON.parse(row.error) as ErrorInfo,
  };
}

export function toTask(row: TaskRow): TaskRegistration {
  return { name: row.name, inputSchemaJson: row.input_schema };
}
