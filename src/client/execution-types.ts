/**
 * Wire types of the execution routes (`/api/v1/executions…`, `/events…`, `/stats`), exactly as the
 * HTTP contract names them (snake_case). Timestamps are RFC 3339 strings in UTC.
 */
import type { EventMap, ExecutionTypes } from "../core/task-types.js";

export type ExecutionStatus = "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ["pending", "running", "waiting", "completed", "failed", "cancelled"];

/**
 * `POST /executions` (201 new, 200 for an idempotent repeat). From a typed client it carries its task's
 * output and event types, so `wait`, `get` and `sendEvent` given it are typed.
 */
export interface ScheduledExecution<O = unknown, E extends EventMap = EventMap> extends ExecutionTypes<O, E> {
  execution_id: string;
  task: string;
  status: ExecutionStatus;
  created_at: string;
}

/** An execution as the typed calls take it: a value with its `execution_id` (and, type-only, its task's types). */
export type ExecutionRef<O = unknown, E extends EventMap = EventMap> = { readonly execution_id: string } & ExecutionTypes<O, E>;

/** Why an execution failed. The contract fixes `message` and `step`; more fields may follow. */
export interface ExecutionError {
  message: string;
  step: string | null;
  code?: string;
  name?: string;
}

/** `GET /executions/:id`. */
export interface Execution<O = unknown> {
  execution_id: string;
  task: string;
  status: ExecutionStatus;
  steps_completed: number;
  current_step: string | null;
  waiting_for_event: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: O | null;
  error: ExecutionError | null;
  created_at: string;
  attempt: number;
  idempotency_key: string | null;
  /** The input it was scheduled with. The server always sends it; optional so that values made by hand need not. */
  data?: unknown;
  /** Set on a child execution: the execution that started it. */
  parent_execution_id?: string;
  /** Set on an execution created by a rerun: the execution it reran. */
  rerun_of?: string;
  /** Set on an execution started by a schedule's tick. */
  schedule_id?: string;
  /** Claim priority when it was given (higher first; default 0). */
  priority?: number;
  /** The concurrency-limit key it was started with, when the task has a limit. */
  concurrency_key?: string;
  /** The delayed start time when one was given. */
  start_at?: string;
  /** Events stored for later waits and not taken yet (tasks with `events: "buffered"`), when any. */
  buffered_events?: number;
}

/** One row of `GET /executions`. */
export interface ExecutionSummary {
  execution_id: string;
  task: string;
  status: ExecutionStatus;
  started_at: string | null;
  created_at: string;
  completed_at: string | null;
  current_step: string | null;
  waiting_for_event: string | null;
}

export interface ListOptions {
  status?: ExecutionStatus;
  task?: string;
  limit?: number;
  offset?: number;
  order?: "asc" | "desc";
}

/** `GET /executions`: `total` counts every match of the filters; `limit` is the limit applied. */
export interface ListPage {
  executions: ExecutionSummary[];
  total: number;
  limit: number;
  offset: number;
}

/** `done: true` (HTTP 200) once the execution is terminal; `done: false` (HTTP 202) when the wait timed out. */
export type WaitResult<O = unknown> =
  | { done: true; execution_id: string; status: ExecutionStatus; output: O | null; completed_at: string | null; error?: ExecutionError }
  | { done: false; execution_id: string; status: ExecutionStatus; message: string };

/** `POST /executions/:id/cancel` (also for an execution already cancelled). */
export interface CancelResult {
  execution_id: string;
  status: "cancelled";
}

/**
 * `POST /events/:id/:event_name`: `delivered` (200) to an execution waiting for that event;
 * `buffered` (202) when the task declares `events: "buffered"` and the execution is not waiting for it yet.
 */
export interface EventDelivery {
  status: "delivered" | "buffered";
  execution_id: string;
  event_name: string;
}

/** `GET /stats`: executions by status. */
export type Stats = Record<ExecutionStatus, number>;

/** Options of `schedule()`, sent under the API's names. */
export interface ScheduleOptions {
  /** 1–255 characters; a repeat with the same key and task returns the existing execution. */
  idempotency_key?: string;
  /** Older spelling of `idempotency_key`, still accepted. */
  idempotencyKey?: string;
  /** Delayed start: the execution stays `pending` until then (a `Date`, or RFC 3339 text). */
  start_at?: string | Date;
  /** Claim priority, an integer: higher first; default 0. */
  priority?: number;
  /** Overrides the key of the task's concurrency limit. */
  concurrency_key?: string;
  /**
   * W3C trace context to send as the `traceparent` header: the execution's OpenTelemetry spans join that
   * trace (e.g. `00-${traceId}-${spanId}-01` of the caller's active span).
   */
  traceparent?: string;
}

/**
 * `POST /executions/:id/rerun` body. Without `from_step` the new execution starts from scratch (with the
 * old data unless `data` is given); with it, the records made before that step are copied and the
 * new execution runs from that step on.
 */
export interface RerunRequest {
  from_step?: string;
  data?: unknown;
  idempotency_key?: string;
}

/**
 * `POST /executions/:id/rerun` (201): the new execution; `rerun_of` names the old one. An idempotent
 * repeat (200) answers the key's holder, whose `rerun_of` may be null.
 */
export interface RerunResult extends ScheduledExecution {
  rerun_of?: string | null;
}
