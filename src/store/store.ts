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
import type { ExecutionRecord, ExecutionStatus, StatusCounts, TaskRegistration } from "../core/types.js";
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
import type {
  CancelOutcome,
  Checkpoint,
  ClaimRequest,
  ClaimResult,
  CreateResult,
  DeliverOutcome,
  DeliverRequest,
  Fence,
  ListQuery,
  ListResult,
  NewExecution,
  NewQueuedExecution,
  PruneOutcome,
  PruneRequest,
  StepDetail,
} from "./store-records.js";

/** The records the interface takes and answers (store-records.ts), so importers need only this module. */
export type * from "./store-records.js";

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
  /** For a process that does not migrate: throws `schema_not_migrated` or `schema_too_new` unless the database is at this release's version. */
  checkSchema(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the store cannot answer (used by `/readyz`). */
  ping(): Promise<void>;
  /** The store's clock minus `localNow` (ms), measured now; 0 for a store on this machine. */
  clockOffset(localNow: () => number): Promise<number>;

  // ── API side ──────────────────────────────────────────────────────────────
  /** Inserts the execution, or returns the one that already holds the idempotency key. */
  createExecution(input: NewExecution): Promise<CreateResult>;
  /**
   * `createExecution` calls accepted and not yet answered: waiting for a shared insert or in one (for
   * metrics: how close the store is to refusing with `overloaded`, which the waiting ones count toward).
   */
  pendingInserts(): number;
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
  /**
   * Optional capability: a store that sends terminal notices to other processes only while some process
   * waits for an execution to end. The caller (a waiter) holds it from before it reads the statuses it will
   * wait on until it stops waiting; resolves once other processes will publish, and returns the release.
   * Stores without it publish every terminal notice. docs/decisions/045-terminal-notices-while-watched.md.
   */
  watchTerminals?(): Promise<() => Promise<void>>;

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
