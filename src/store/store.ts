/**
 * The storage seam. Two implementations (SQLite, PostgreSQL) pass one behaviour suite
 * (`test/support/store-behaviour.ts`). Stores do no scheduling logic of their own: they apply the writes the
 * engine hands them atomically, enforce fencing, idempotency and event races with constraints and
 * conditional updates, and tell listeners what changed once it is committed.
 *
 * Every time argument (`now`) comes from the engine's injected clock; stores never read the wall clock.
 */
import type {
  AttemptRecord,
  ErrorInfo,
  ExecutionRecord,
  ExecutionStatus,
  StatusCounts,
  StepRecord,
  TaskRegistration,
} from "../core/types.js";

/** Identifies the claim a write belongs to. A write whose token is no longer current is rejected. */
export interface Fence {
  executionId: string;
  leaseToken: number;
}

export interface NewExecution {
  id: string;
  task: string;
  dataJson: string;
  idempotencyKey: string | null;
  now: number;
  /**
   * Eager start: insert the execution already claimed by this worker (status `running`, fencing token 1,
   * lease until now + leaseMs), so the process that schedules it runs it without a claim round trip.
   * An idempotent replay returns the existing row untouched.
   */
  claimFor?: { workerId: string; leaseMs: number };
  /**
   * With `claimFor`: the eager run already ended, before this insert was written, without recording
   * any step (see docs/engine.md, "Eager start"), so the row is born in that final state: started at
   * `now`, ended at `at`, fencing token 1, lease released, and a terminal notice like a completion's.
   * An idempotent replay returns the existing row untouched, as always.
   */
  finished?: Finished;
}

/** A run's final patch (completed or failed) and when it ended. */
export type Finished = Extract<ExecutionPatch, { status: "completed" | "failed" }> & { at: number };

/** One execution of a batch insert: always queued (`pending`), never eagerly claimed. */
export type NewQueuedExecution = Omit<NewExecution, "claimFor" | "finished">;

export interface CreateResult {
  /** The new execution, or the existing one that holds the idempotency key (whatever its task). */
  execution: ExecutionRecord;
  created: boolean;
}

export interface ListQuery {
  status?: ExecutionStatus;
  task?: string;
  limit: number;
  offset: number;
  /** By (created_at, id). */
  order: "asc" | "desc";
}

export interface ListResult {
  executions: ExecutionRecord[];
  /** Every row that matches the filters (not just this page). */
  total: number;
}

export type CancelOutcome = "cancelled" | "already_cancelled" | "not_cancellable" | "not_found";

export interface DeliverRequest {
  executionId: string;
  eventName: string;
  payloadJson: string;
  now: number;
  /**
   * Checks the payload against the wait's schema (JSON Schema text) inside the delivery transaction;
   * returns an error message to refuse delivery, or null to accept.
   */
  validate?: (schemaJson: string, payloadJson: string) => string | null;
  /**
   * Eager resume: when the execution is of one of `tasks`, it is left `running` under a new lease of
   * `workerId` (as a claim would leave it) instead of `pending`, and comes back with its steps, so the
   * delivering process resumes it without a notice hop and a claim round trip. No runnable notice then.
   */
  claimFor?: { workerId: string; leaseMs: number; tasks: readonly string[] };
  /**
   * With `claimFor`: when the claim leaves the row with exactly this fencing token (nobody claimed it since
   * the caller parked it, so the caller's copy of its steps is current), also end the execution with
   * `finished` in the same transaction (a resumed run that ended before the delivery was written, see
   * docs/engine.md, "Eager resume"). `finished: true` in the outcome says it was applied.
   */
  finishIfToken?: { leaseToken: number; finished: Finished };
}

export type DeliverOutcome =
  | { outcome: "delivered"; task: string; claimed?: ClaimedExecution; finished?: boolean }
  | { outcome: "not_found" }
  | { outcome: "not_waiting" }
  | { outcome: "invalid"; message: string };

export interface ClaimRequest {
  workerId: string;
  /** Only executions of these tasks are claimed. */
  tasks: readonly string[];
  limit: number;
  now: number;
  leaseMs: number;
}

export interface ClaimedExecution {
  /** Status `running`, with the new lease token, `attempt` and `started_at` already applied. */
  execution: ExecutionRecord;
  /** Every recorded step of the execution, for replay. Empty for an execution that never ran. */
  steps: StepRecord[];
}

/**
 * What happens to the execution row in a checkpoint. The worker holds the lease, so absolute values
 * (not deltas) are safe for `stepsCompleted`.
 */
export type ExecutionPatch =
  /**
   * Still running: progress only. The lease is left alone (the worker's lease keeper renews it), so on
   * PostgreSQL the update touches no indexed column and is done in place (HOT).
   */
  | { status: "running"; currentStep: string | null; stepsCompleted: number }
  /** Durably paused; the lease is released. `wakeAt` null means only an event can resume it. */
  | {
      status: "waiting";
      currentStep: string | null;
      waitingForEvent: string | null;
      wakeAt: number | null;
      stepsCompleted: number;
    }
  /**
   * Back to the queue: a graceful release (same attempt) or a task-level retry (`retryAttempt` set:
   * recorded step failures are discarded so those steps run again; successful results are kept).
   * The row becomes `pending` when `runAt <= now`, else `waiting` (a backoff) until `runAt`.
   */
  | { status: "requeue"; runAt: number; retryAttempt?: { attempt: number; error: ErrorInfo } }
  | { status: "completed"; outputJson: string; stepsCompleted: number }
  | { status: "failed"; error: ErrorInfo; stepsCompleted: number };

/** One fenced write of a running execution. A batch of these commits in one transaction (group commit). */
export interface Checkpoint {
  fence: Fence;
  now: number;
  /** Step rows to insert or replace (keyed by execution id and name). */
  steps?: StepRecord[];
  /** Failed attempts to append. */
  attempts?: AttemptRecord[];
  execution: ExecutionPatch;
}

/** Change notices, delivered to subscribers after commit (in-process, and across processes on Postgres). */
export type Notice =
  /** Work became claimable now or at `at` (new execution, event delivered, released, timer set). */
  | { kind: "runnable"; task: string; at: number }
  /** The execution reached completed / failed / cancelled. */
  | { kind: "terminal"; executionId: string; status: ExecutionStatus }
  /** A running execution was cancelled: its holder must abort it. */
  | { kind: "cancelled"; executionId: string }
  /** The store lost and regained its notification channel: notices may have been missed; re-poll. */
  | { kind: "reconnected" };

export type NoticeListener = (notice: Notice) => void;

export interface StepDetail {
  steps: StepRecord[];
  attempts: AttemptRecord[];
}

export interface Store {
  /** `sqlite` or `postgres`, for logs and metrics. */
  readonly kind: string;
  /** A human-readable location without credentials (file path, host/db/schema). */
  readonly description: string;

  /** Applies pending numbered migrations; safe when several processes do it at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the store cannot answer (used by `/readyz`). */
  ping(): Promise<void>;

  // ── API side ──────────────────────────────────────────────────────────────
  /** Inserts the execution, or returns the one that already holds the idempotency key. */
  createExecution(input: NewExecution): Promise<CreateResult>;
  /**
   * Inserts many in one transaction (all or none), results in input order. An idempotency key already
   * stored, or repeated within the batch, yields the execution that holds it (`created: false`).
   */
  createExecutions(inputs: readonly NewQueuedExecution[]): Promise<CreateResult[]>;
  getExecution(id: string): Promise<ExecutionRecord | null>;
  /** Statuses of the given ids that exist (long-poll safety check: one query for many waiters). */
  getStatuses(ids: readonly string[]): Promise<Map<string, ExecutionStatus>>;
  getStepDetail(id: string): Promise<StepDetail>;
  listExecutions(query: ListQuery): Promise<ListResult>;
  countByStatus(): Promise<StatusCounts>;
  cancelExecution(id: string, now: number): Promise<{ outcome: CancelOutcome; execution: ExecutionRecord | null }>;
  deliverEvent(request: DeliverRequest): Promise<DeliverOutcome>;

  // ── Task registry (workers publish what they serve) ──────────────────────
  registerTasks(workerId: string, tasks: readonly TaskRegistration[], now: number): Promise<void>;
  getTask(name: string): Promise<TaskRegistration | null>;

  // ── Worker side ───────────────────────────────────────────────────────────
  /** Claims up to `limit` executions whose `runnableAt <= now`, oldest first, each with a new fencing token. */
  claim(request: ClaimRequest): Promise<ClaimedExecution[]>;
  /** Applies each checkpoint atomically, all in one transaction; result[i] is false when i was fenced out. */
  applyCheckpoints(batch: readonly Checkpoint[]): Promise<boolean[]>;
  /**
   * `applyCheckpoints` and then `claim`, in one round trip where the store can (PostgreSQL: one statement
   * when the batch fits it). Used by the group committer to claim for the slots that its batch frees.
   */
  applyAndClaim(batch: readonly Checkpoint[], claim: ClaimRequest): Promise<{ results: boolean[]; claimed: ClaimedExecution[] }>;
  /** Extends the leases still held; returns the execution ids whose lease is still held. */
  renewLeases(fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>>;
  /** Earliest `runnableAt` among claimable rows of these tasks (timers, backoffs, leases), or null. */
  nextWakeAt(tasks: readonly string[]): Promise<number | null>;

  subscribe(listener: NoticeListener): () => void;
}
