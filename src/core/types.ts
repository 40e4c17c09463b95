/**
 * Records shared by the engine, the worker and every store implementation.
 * Times are epoch milliseconds read from the injected {@link Clock}; JSON values travel as text so a
 * result is serialised once when recorded and parsed once when replayed (never re-encoded in between).
 */

export const EXECUTION_STATUSES = ["pending", "running", "waiting", "completed", "failed", "cancelled"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** What `GET /executions/:id` shows as `error` for a failed execution (and what a failed step records). */
export interface ErrorInfo {
  message: string;
  /** Step (or sleep / event wait) the failure belongs to; null for an error thrown by the task body itself. */
  step: string | null;
  /** Stable string code: one of FAILURE_CODES (core/errors.ts) when the engine made the failure; the workflow's own errors keep theirs. */
  code?: string;
  /** The JavaScript error's `name` when the user's code threw. */
  name?: string;
  /** The stack of the error the user's code threw: kept for the step timeline, never sent as the execution's `error`. */
  stack?: string;
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
  /** Execution-level attempt (task-level and operator retries), 1-based once claimed; 0 before the first claim. */
  attempt: number;
  /**
   * When a claim may take this row: the creation time (or delayed start) of new work, the wake time of a
   * sleep or backoff, the lease expiry of a running execution (crash recovery uses the same claim query),
   * null when it only waits for an event, a child or a concurrency slot, or is terminal.
   */
  runnableAt: number | null;
  /** Fencing token: incremented by every claim; writes carrying an older token are rejected. */
  leaseToken: number;
  leaseOwner: string | null;
  /** The execution timeout counts from here (the first start, or the start after an operator retry). */
  timeoutFrom: number | null;
  /** Claims that found its lease expired since its last recorded step: attempts that crashed their worker. */
  crashes: number;
  /** Something arrived for it while it ran (an event, a child's end): its next park requeues it. */
  wakeRequested: boolean;
  parentId: string | null;
  /** The parent's step (a `runChild`/`startChild` record) this child answers. */
  parentStep: string | null;
  /** Cancelling the parent cancels it (false for a detached child). */
  cancelWithParent: boolean;
  rerunOf: string | null;
  scheduleId: string | null;
  /** Higher first; default 0. */
  priority: number;
  /** Concurrency group within the task ("" for the task-wide group) when `concurrencyLimit` is set. */
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
  /** The delayed start requested at creation, if any. */
  startAt: number | null;
  /** W3C trace context of the request that created it. */
  traceparent: string | null;
  /** Events stored for later waits (tasks with `events: "buffered"`), not taken yet. */
  bufferedEvents: number;
}

export type StepKind = "step" | "sleep" | "event" | "child";

/**
 * `completed` and `failed` are final results that replay returns or throws (a record in a final state is
 * never overwritten). `waiting` is a sleep, event wait or child wait that has not ended; `retrying` is a
 * step waiting out a long backoff between attempts; `closed` is a wait the execution no longer needed
 * when it ended; `discarded` is the failure a retry set aside so the step runs again.
 */
export type StepState = "completed" | "failed" | "waiting" | "retrying" | "closed" | "discarded";

export const FINAL_STEP_STATES: ReadonlySet<StepState> = new Set(["completed", "failed"]);

export interface StepRecord {
  executionId: string;
  name: string;
  kind: StepKind;
  state: StepState;
  /** The recorded result (step result, `null` for a sleep, the event payload, a child's output). */
  resultJson: string | null;
  error: ErrorInfo | null;
  /** Attempts made so far (the successful one included), counted across execution attempts. */
  attempts: number;
  /** Sleep wake time, event-wait deadline, or retry time; null otherwise. */
  wakeAt: number | null;
  /** For event waits: the payload's JSON Schema, checked at delivery. */
  schemaJson: string | null;
  startedAt: number;
  completedAt: number | null;
  /** Order in which the execution first reached it. */
  seq: number;
  /** For child starts: the child execution's id. */
  childId: string | null;
  /** Set on records a rerun copied from the execution it reruns. */
  copiedFrom: string | null;
  /**
   * For a final record: the run (the execution's lease token) that first saw it final. A record a run
   * made gets that run's token; an event delivered or a child ended from outside gets the next run's.
   * Replays settle calls by (settledIn, completedAt, seq), so a `Promise.race` keeps its first winner.
   */
  settledIn: number | null;
  /**
   * The execution attempt that wrote the record (for a completed step: the one its successful attempt ran
   * in), for the step timeline. Written by the worker; not read back for replays.
   */
  executionAttempt?: number;
  /** When the step's deciding attempt (its successful or final one) started, for the step timeline. */
  attemptStartedAt?: number;
}

/** A failed attempt of a step, kept for the timeline. The successful attempt is the step record itself. */
export interface AttemptRecord {
  executionId: string;
  step: string;
  attempt: number;
  /** The execution attempt it belonged to. */
  executionAttempt: number;
  startedAt: number;
  endedAt: number;
  error: ErrorInfo;
}

export interface TaskRegistration {
  name: string;
  /** The task's input schema as JSON Schema text, so an API-only server can validate `data`. */
  inputSchemaJson: string | null;
  /** What an API-only server must know to create its executions as the workers would. */
  options: TaskRegistrationOptions;
}

export interface TaskRegistrationOptions {
  /** `concurrency.limit`, when the task declares one. */
  concurrencyLimit?: number;
  /** The task computes its concurrency key from its data (a function only its workers can run). */
  concurrencyKeyed?: boolean;
  /** `events: "buffered"`. */
  bufferedEvents?: boolean;
  /**
   * The task has an input schema that does not convert to JSON Schema (a Standard Schema library without
   * a JSON Schema export): a server without the task's code cannot check `data`, so its workers do, once,
   * when they first run the execution.
   */
  opaqueInput?: boolean;
}

export type StatusCounts = Record<ExecutionStatus, number>;

export function emptyCounts(): StatusCounts {
  return { pending: 0, running: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 };
}
