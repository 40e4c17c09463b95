/**
 * Records shared by the engine, the worker and every store implementation.
 * Times are epoch milliseconds read from the injected {@link Clock}; JSON values travel as text so a
 * result is serialised once when recorded and parsed once when replayed (never re-encoded in between).
 */

export const EXECUTION_STATUSES = ["pending", "running", "waiting", "completed", "failed", "cancelled"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** What `GET /executions/:id` shows as `error` for a failed execution (and what a failed step records). */
export interface ErrorInfo {
  message: string;
  /** Step (or sleep / event wait) the failure belongs to; null for an error thrown by the task body itself. */
  step: string | null;
  /** Stable string code for engine-made failures (`step_failed`, `timeout`, `event_timeout`, …). */
  code?: string;
  /** The JavaScript error's `name` when the user's code threw. */
  name?: string;
}

export interface ExecutionRecord {
  id: string;
  task: string;
  status: ExecutionStatus;
  dataJson: string;
  idempotencyKey: string | null;
  createdAt: number;
  updatedAt: number;
  /** When a worker first began executing it. */
  startedAt: number | null;
  /** When it reached a terminal status. */
  completedAt: number | null;
  outputJson: string | null;
  error: ErrorInfo | null;
  /** Durable steps whose result is recorded (steps, sleeps that ended, events received, recorded failures). */
  stepsCompleted: number;
  currentStep: string | null;
  waitingForEvent: string | null;
  /** Execution-level attempt (task-level retries), 1-based once claimed; 0 before the first claim. */
  attempt: number;
  /**
   * When a claim may take this row: the creation time for new work, the wake time of a sleep or backoff,
   * the lease expiry of a running execution (crash recovery uses the same claim query), null when it only
   * waits for an event or is terminal. One partial index on this column serves every kind of wake-up.
   */
  runnableAt: number | null;
  /** Fencing token: incremented by every claim; writes carrying an older token are rejected. */
  leaseToken: number;
  leaseOwner: string | null;
}

export type StepKind = "step" | "sleep" | "event";

/**
 * `completed` and `failed` are final results that replay returns or throws. `waiting` is a sleep or event
 * wait that has not ended; `retrying` is a step waiting out a long backoff between attempts.
 */
export type StepState = "completed" | "failed" | "waiting" | "retrying";

export interface StepRecord {
  executionId: string;
  name: string;
  kind: StepKind;
  state: StepState;
  /** The recorded result (step result, `null` for a sleep, the event payload). */
  resultJson: string | null;
  error: ErrorInfo | null;
  /** Attempts made so far (the successful one included). */
  attempts: number;
  /** Sleep wake time, event-wait deadline, or retry time; null otherwise. */
  wakeAt: number | null;
  /** For event waits: the payload's JSON Schema, checked at delivery. */
  schemaJson: string | null;
  startedAt: number;
  completedAt: number | null;
}

/** A failed attempt of a step, kept for the admin views. The successful attempt is the step record itself. */
export interface AttemptRecord {
  executionId: string;
  step: string;
  attempt: number;
  startedAt: number;
  endedAt: number;
  error: ErrorInfo;
}

export interface TaskRegistration {
  name: string;
  /** The task's input schema as JSON Schema text, so an API-only server can validate `data`. */
  inputSchemaJson: string | null;
}

export type StatusCounts = Record<ExecutionStatus, number>;

export function emptyCounts(): StatusCounts {
  return { pending: 0, running: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 };
}
