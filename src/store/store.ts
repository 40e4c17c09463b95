// Long file (over 300 lines) on purpose: it is the whole storage contract, every method and record documented
// in one place.
/**
 * The storage seam. Two implementations (SQLite, PostgreSQL) pass one behaviour suite
 * (`test/support/store-behaviour*.ts`). Stores hold no scheduling logic: they apply the transitions the
 * engine hands them (src/state/transitions.ts) atomically, enforce fencing, idempotency and event races
 * with constraints and conditional updates, apply a transition's consequences (a child's end wakes its
 * parent, in the same transaction; a freed concurrency slot goes to the next execution, in the same
 * transaction on SQLite and right after the commit on PostgreSQL, docs/decisions/021), and tell
 * listeners what changed once it is committed.
 *
 * Every time argument (`now`) comes from the engine's clock; stores never read the wall clock.
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
import type { RerunOutcome, ResumeOutcome, TaskSummary, TimelineData, WorkerBeat, WorkerRecord } from "./operations.js";
import type {
  CodeScheduleSync,
  CodeSyncResult,
  HeldTickRelease,
  NewSchedule,
  PauseChange,
  ScheduleRecord,
  ScheduleTick,
  ScheduleWork,
  TickResult,
} from "./schedule-records.js";

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
 * `buffered`: no wait for the event is open, and the execution's task keeps such events (its registration
 * says `events: "buffered"`): stored for the execution's next wait of that name.
 */
export type DeliverOutcome =
  | { outcome: "delivered"; task: string; claimed?: ClaimedExecution; finished?: boolean }
  | { outcome: "buffered"; task: string }
  | { outcome: "not_found" }
  | { outcome: "not_waiting"; reason: "no_wait" | "timed_out" | "ended" }
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
   * Due rows were left for a later claim (their concurrency group's lock was busy, or their group was
   * full and they now wait for a slot): the caller should not conclude the queue is drained.
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

/** Change notices, delivered to subscribers after commit (in-process, and across processes where the store can). */
export type Notice =
  /** Work became claimable now or at `at` (new execution, event delivered, released, timer set). */
  | { kind: "runnable"; task: string; at: number }
  /** The execution reached completed / failed / cancelled. */
  | { kind: "terminal"; executionId: string; status: ExecutionStatus }
  /** A running execution was cancelled: its holder must abort it. */
  | { kind: "cancelled"; executionId: string }
  /** A failed or cancelled execution was resumed by an operator: it is no longer terminal (drop cached copies). */
  | { kind: "resumed"; executionId: string }
  /** The store lost and regained its notification channel: notices may have been missed; re-poll. */
  | { kind: "reconnected" }
  /**
   * Another process wrote to the store, and this store cannot say what (SQLite, which has no channel
   * between processes): look again - claim, re-read the next wake-up, check for cancellations and ends.
   */
  | { kind: "changed" };

export type NoticeListener = (notice: Notice) => void;

export interface StepDetail {
  steps: StepRecord[];
  attempts: AttemptRecord[];
}

/** What a store can do beyond the interface's minimum; the engine adapts to it instead of asking which store it is. */
export interface StoreCapabilities {
  /**
   * Notices reach other processes sharing the store without polling (PostgreSQL LISTEN/NOTIFY). Without
   * it, other processes' changes are seen by watching the store (SQLite's `data_version`), and the safety
   * poll defaults shorter.
   */
  readonly crossProcessNotices: boolean;
  /**
   * Machines with different clocks share the store: times are kept on the store's clock, and each
   * process measures its offset from it (`clockOffset`).
   */
  readonly sharedClock: boolean;
  /**
   * Claims fused into other writes: `createExecution` and `deliverEvent` honour `claimFor` (eager start,
   * eager resume) and `applyAndClaim` claims in the same transaction as its checkpoints. Without it the
   * engine never passes `claimFor` nor calls `applyAndClaim`: every new or woken execution queues and
   * is claimed by a separate call. Slower, same behaviour.
   */
  readonly fusedClaims: boolean;
}

export interface Store {
  /** `sqlite` or `postgres`, for logs and metrics. */
  readonly kind: string;
  /** A human-readable location without credentials (file path, host/db/schema). */
  readonly description: string;
  readonly capabilities: StoreCapabilities;

  /** Applies pending numbered migrations; safe when several processes do it at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the store cannot answer (used by `/readyz`). */
  ping(): Promise<void>;
  /** The store's clock minus `localNow` (ms), measured now; 0 for a store on this machine. */
  clockOffset(localNow: () => number): Promise<number>;

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
  /** Cancels the execution and, unless detached, its descendants. */
  cancelExecution(id: string, now: number): Promise<{ outcome: CancelOutcome; execution: ExecutionRecord | null }>;
  deliverEvent(request: DeliverRequest): Promise<DeliverOutcome>;

  // ── Task registry (workers publish what they serve) ──────────────────────
  registerTasks(workerId: string, tasks: readonly TaskRegistration[], now: number): Promise<void>;
  getTask(name: string): Promise<TaskRegistration | null>;

  // ── Worker side ───────────────────────────────────────────────────────────
  /** Claims up to `limit` due executions (`runnable_at <= now`) by priority, then due time, each with a new fencing token. */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Applies each checkpoint atomically, all in one transaction; result[i] is false when i was fenced out. */
  applyCheckpoints(batch: readonly Checkpoint[]): Promise<boolean[]>;
  /**
   * `applyCheckpoints` and then `claim`, in one round trip where the store can (PostgreSQL: one statement).
   * Used by the group committer to claim for the slots that its batch frees, only with `fusedClaims` (a
   * store without it may implement this as the two calls).
   */
  applyAndClaim(batch: readonly Checkpoint[], claim: ClaimRequest): Promise<{ results: boolean[]; claim: ClaimResult }>;
  /**
   * `expire_lease` on every running row leased to `workerId` but not in `held` (after a claim whose answer
   * was lost: what it took must not wait out its lease). Returns how many.
   */
  releaseUnheld(workerId: string, held: readonly string[], now: number): Promise<number>;
  /** Extends the leases still held; returns the execution ids whose lease is still held. */
  renewLeases(fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>>;
  /** Earliest `runnableAt` among claimable rows of these tasks (timers, backoffs, leases), or null. */
  nextWakeAt(tasks: readonly string[]): Promise<number | null>;

  subscribe(listener: NoticeListener): () => void;

  // ── Operating executions (operations.md §1-§2; src/store/operations.ts) ──────
  /** The step timeline's data in one snapshot; null when no such execution. */
  getTimeline(id: string): Promise<TimelineData | null>;
  /** Inserts or refreshes the worker's row, and deletes rows of workers not heard from for a day. */
  heartbeat(beat: WorkerBeat): Promise<void>;
  /** A worker that stops gracefully deletes its row. */
  removeWorker(workerId: string): Promise<void>;
  /** Workers heard from within two of their lease periods, by id. */
  listWorkers(now: number): Promise<WorkerRecord[]>;
  /** Tasks a live worker serves or that have executions, by name, with counts by status. */
  listTasks(now: number): Promise<TaskSummary[]>;
  /**
   * Resumes a failed or cancelled execution in place (the `resume` transition) and, in the same transaction,
   * discards the failure that ended it (the record of its error's step, when `failed`) and the records a
   * cancellation cascaded into, so those run again. Notices: `resumed` and `runnable`.
   */
  resumeExecution(id: string, now: number): Promise<ResumeOutcome>;
  /**
   * Creates `input` (which names its source in `rerunOf`). With `fromStep`, copies in the same transaction
   * every record the source reached before that step (and their failed attempts), marked `copiedFrom`:
   * all of them when the source is running that step now (it has no record yet).
   * An idempotency key already held returns its holder and copies nothing.
   */
  rerunExecution(input: NewExecution & { rerunOf: string }, fromStep: string | null): Promise<RerunOutcome>;
  // ── Retention ────────────────────────────────────────────────────────────
  /**
   * One prune round under the store's prune lock (PostgreSQL: a session advisory lock; SQLite: a lease row),
   * in batches of `batchSize`, each its own short transaction, with `afterBatch` between them. Answers
   * `{ ran: false }` at once when another process holds the lock. Counts and list totals stay exact.
   */
  pruneExecutions(request: PruneRequest): Promise<PruneOutcome>;
  // ── Schedules (schedule-records.ts) ───────────────────────────────────────
  /** Inserts it; null when the id is taken. */
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord | null>;
  getSchedule(scheduleId: string): Promise<ScheduleRecord | null>;
  /** Every schedule, by id. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** False when there was none. Its executions stay. */
  deleteSchedule(scheduleId: string): Promise<boolean>;
  /** The schedule as it is afterwards; null when there is none. */
  setSchedulePaused(change: PauseChange): Promise<ScheduleRecord | null>;
  syncCodeSchedules(sync: CodeScheduleSync): Promise<CodeSyncResult>;
  /** Due schedules (at most `limit`), held ticks, and the next tick time, for one scheduler pass. */
  scheduleWork(now: number, limit: number): Promise<ScheduleWork>;
  /** Applies one tick of a due schedule, with the execution it starts, atomically. */
  fireScheduleTick(tick: ScheduleTick): Promise<TickResult>;
  /** Starts a held tick's execution if the previous one has ended, atomically. */
  releaseHeldTick(release: HeldTickRelease): Promise<TickResult>;
}
