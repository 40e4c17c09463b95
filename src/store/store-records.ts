/**
 * The records of the storage contract (store.ts): what callers hand a store (new executions, claims,
 * checkpoints, deliveries, prune rounds) and what it answers. Kept apart from the `Store` interface so the
 * interface reads as a list of operations; store.ts re-exports every name here, so importers take the whole
 * contract from store.ts.
 */
import type { AttemptRecord, ErrorInfo, ExecutionRecord, ExecutionStatus, StepRecord } from "../core/types.js";

/** Identifies the claim a write belongs to. A write whose token is no longer current is rejected. */
export interface Fence {
  executionId: string;
  leaseToken: number;
}

/** Creation options beyond the contract's three fields (operations.md §2 and §5). */
export interface CreationOptions {
  /** Delayed start: stays `pending` until then. */
  startAt?: number | null;
  priority?: number;
  /** The execution's concurrency group within its task ("" for the task-wide group) and its limit. */
  concurrency?: { key: string; limit: number } | null;
  /** A child execution: its parent, the parent's step it answers, whether cancelling the parent cancels it. */
  parent?: { id: string; step: string; cancelWithParent: boolean } | null;
  rerunOf?: string | null;
  scheduleId?: string | null;
  traceparent?: string | null;
}

export interface NewExecution extends CreationOptions {
  id: string;
  task: string;
  dataJson: string;
  idempotencyKey: string | null;
  now: number;
  /** Step records the execution starts with (a rerun from a step copies the records before it). */
  steps?: StepRecord[];
  /**
   * Eager start: insert the execution already claimed by this worker (the `create_claimed` transition),
   * so the process that schedules it runs it without a claim round trip. An idempotent replay returns
   * the existing row untouched.
   */
  claimFor?: { workerId: string; leaseMs: number };
  /**
   * With `claimFor`: the eager run already ended, before this insert was written, without recording
   * any step (docs/engine.md, "Eager start"), so the row is born in that final state (`create_completed`
   * / `create_failed`), with a terminal notice like a completion's.
   */
  finished?: Finished;
}

/** A run's final write (completed or failed) and when it ended. */
export type Finished = (
  | { transition: "complete"; outputJson: string; error?: undefined }
  | { transition: "fail"; error: ErrorInfo; outputJson?: undefined }
) & { at: number; stepsCompleted: number };

/** One execution of a batch insert: always queued (`pending`), never eagerly claimed. */
export type NewQueuedExecution = Omit<NewExecution, "claimFor" | "finished" | "steps">;

/**
 * One execution of a store's shared insert: queued, born claimed or born finished (an eager start), but
 * never with copied steps (a rerun's, which are written apart).
 */
export type NewBatchedExecution = Omit<NewExecution, "steps">;

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
   * Eager resume: when the execution was waiting, is of one of `tasks` and not concurrency-limited, it is
   * left `running` under a new lease of `workerId` (`deliver_claimed`) instead of `pending`, and comes back
   * with its steps, so the delivering process resumes it without a notice hop and a claim round trip.
   */
  claimFor?: { workerId: string; leaseMs: number; tasks: readonly string[] };
  /**
   * With `claimFor`: when the claim leaves the row with exactly this fencing token (nobody claimed it since
   * the caller parked it, so the caller's copy of its steps is current), also end the execution with
   * `finished` in the same transaction (docs/engine.md, "Eager resume"). `finished: true` in the outcome
   * says it was applied.
   */
  finishIfToken?: { leaseToken: number; finished: Finished };
}

/**
 * Why an event was refused though its execution exists: no wait of that name is open (`no_wait`), the wait's
 * timeout passed (`timed_out`), the execution's own task timeout passed while it waited (`deadline`), or it
 * ended (`ended`).
 */
export type NotWaitingReason = "no_wait" | "timed_out" | "deadline" | "ended";

/**
 * `buffered`: no wait for the event is open, and the execution's task keeps such events (its registration
 * says `events: "buffered"`): stored for the execution's next wait of that name.
 */
export type DeliverOutcome =
  | { outcome: "delivered"; task: string; claimed?: ClaimedExecution; finished?: boolean }
  | { outcome: "buffered"; task: string }
  | { outcome: "not_found" }
  | { outcome: "not_waiting"; reason: NotWaitingReason }
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
  /** Buffered events not taken yet, oldest first (only when `execution.bufferedEvents` > 0). */
  events: BufferedEvent[];
  /**
   * The claim found it `running` under an expired lease: the run that held it stopped without a word (a
   * crash, a frozen process). Its run then writes each step's start durably before the step runs, so a
   * step that crashes its worker again is known by name (docs/engine.md, "Crashes").
   */
  recovered: boolean;
}

export interface ClaimResult {
  claimed: ClaimedExecution[];
  /**
   * Due rows were left for a later claim (their concurrency group's lock was busy, their group was full
   * and they now wait for a slot, or a row was committed too late for this claim to take it): the caller
   * should not conclude the queue is drained.
   */
  more: boolean;
}

export interface BufferedEvent {
  id: number;
  name: string;
  payloadJson: string;
  createdAt: number;
}

/**
 * What a fenced write does to the execution row: one of the worker transitions of
 * src/state/transitions.ts, with its parameters.
 */
export type WorkerPatch =
  /** Still running: progress only (no indexed column changes; the lease keeper renews the lease). */
  | { transition: "progress"; currentStep: string | null }
  /** Durably paused; `wakeAt` null means only an event or a child's end can resume it. */
  | { transition: "park"; currentStep: string | null; waitingForEvent: string | null; wakeAt: number | null }
  /** Back to the queue at `runAt` (a graceful release). */
  | { transition: "release"; runAt: number }
  /**
   * A task-level retry: attempt `attempt` at `runAt`. The checkpoint's steps carry the failure that escaped
   * `run()` as `discarded` (the one write allowed over a final record), so that step runs again.
   */
  | { transition: "retry"; runAt: number; attempt: number }
  | { transition: "complete"; outputJson: string }
  | { transition: "fail"; error: ErrorInfo };

/** What the store needs to know about the execution a checkpoint writes, to apply its consequences. */
export interface CheckpointOwner {
  task: string;
  parentId: string | null;
  parentStep: string | null;
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
}

/** One fenced write of a running execution. A batch of these commits in one transaction (group commit). */
export interface Checkpoint {
  fence: Fence;
  owner: CheckpointOwner;
  now: number;
  patch: WorkerPatch;
  /** The execution's count of recorded steps after this write (absolute: the writer holds the lease). */
  stepsCompleted: number;
  /** Crashed attempts still to be accounted for (0 once a step was recorded since the claim). */
  crashes: number;
  /** Step rows to insert or update (keyed by execution id and name; a final record is only ever overwritten as `discarded`). */
  steps?: StepRecord[];
  /** Failed attempts to append. */
  attempts?: AttemptRecord[];
  /** Child executions to insert (`ctx.startChild`), in the same transaction as their step records. */
  children?: NewExecution[];
  /** Buffered events the write's waits took (deleted with it). */
  consumedEvents?: number[];
}

/**
 * One prune round (retention, docs/retention.md): finished executions (`completed`, `failed`, `cancelled`)
 * whose `completed_at` is before `completedBefore` are deleted with everything that belongs to them (step
 * records, attempts, buffered events), so their idempotency keys are free again. An execution is kept
 * while its parent or one of its children has not finished.
 */
export interface PruneRequest {
  completedBefore: number;
  /** Executions deleted per transaction: each batch commits on its own, so no transaction is long. */
  batchSize: number;
  /** This process (the engine's worker id): the holder of the prune lock. */
  holder: string;
  /** The engine's clock (a store that keeps the lock as a lease renews it between batches). */
  now(): number;
  /**
   * Awaited after each batch with how many it deleted, before the next one: the caller gives other writers
   * their turn, counts, and answers false to end the round early (the engine is stopping).
   */
  afterBatch(deleted: number): Promise<boolean>;
}

export type PruneOutcome =
  /** Another process holds the prune lock (one round at a time per store): nothing was done. */
  { ran: false } | { ran: true; pruned: number };

export interface StepDetail {
  steps: StepRecord[];
  attempts: AttemptRecord[];
}
