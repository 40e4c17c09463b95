/**
 * The shared store: one PostgreSQL database for many API servers and workers on many machines. Claims use
 * `FOR UPDATE SKIP LOCKED`; checkpoints are group-committed, one statement per batch (checkpoint-writer.ts);
 * notices reach this process's subscribers right after commit, and other processes through
 * LISTEN/NOTIFY published right after commit too (publisher.ts explains why not inside the transaction).
 * The pool, the LISTEN connection and the notice fan-out are store-connections.ts; each method here is a
 * call into the module that holds its SQL.
 *
 * Connection loss (server restart, failover, terminated backends): calls whose repetition is harmless retry
 * on a fresh pooled connection - reads, migrate, registerTasks and renewLeases (absolute values),
 * createExecution (it recognises its own committed insert by id) and cancelExecution (a repeat answers
 * already_cancelled). claim, applyCheckpoints and deliverEvent are not repeated here, because a first
 * attempt that committed unseen would be misreported (rows leased to nobody until the lease ends, a
 * completion reported as fenced out, a delivery reported as not_waiting); they fail with
 * `store_unavailable` and the engine decides.
 *
 * Just over 300 lines because it is one class for the whole Store interface, some forty methods of a line
 * or two each, so that every call's lost-connection policy reads in one place.
 */
import type { ExecutionRecord, ExecutionStatus, StatusCounts, TaskRegistration } from "../../core/types.js";
import type { RerunOutcome, ResumeOutcome, TaskSummary, TimelineData, WorkerBeat, WorkerRecord } from "../operations.js";
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
} from "../schedule-records.js";
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
  NoticeListener,
  PruneOutcome,
  PruneRequest,
  StepDetail,
  Store,
} from "../store.js";
import { applyCheckpoints } from "./checkpoint-writer.js";
import { claim, nextWakeAt, releaseUnheld, renewLeases } from "./claim.js";
import { ClaimFloor } from "./claim-floor.js";
import { cancelExecution, deliverEvent } from "./commands.js";
import { sweepSlots } from "./consequences.js";
import { ExecutionInserts } from "./execution-inserts.js";
import * as fleet from "./fleet.js";
import { checkSchema, migrations, runMigrations } from "./migration-runner.js";
import { pruneExecutions } from "./prune.js";
import * as queries from "./queries.js";
import { rerunExecution, resumeExecution } from "./recovery.js";
import * as schedules from "./schedules.js";
import type { SqlContext } from "./sql-context.js";
import { type ConnectionOptions, StoreConnections } from "./store-connections.js";
import { getTimeline } from "./timeline.js";

export interface PostgresStoreOptions extends ConnectionOptions {
  /** New executions that may wait for a shared insert before `createExecution` answers `overloaded` (default 10,000). */
  maxQueuedInserts?: number;
}

/** How often a claim also sweeps for rows waiting beside a free concurrency slot (consequences.ts). */
const SLOT_SWEEP_MS = 5_000;

export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly description: string;
  readonly capabilities = { crossProcessNotices: true, sharedClock: true, fusedClaims: true } as const;
  private readonly ctx: SqlContext;
  private readonly inserts: ExecutionInserts;
  private lastSlotSweep = Number.NEGATIVE_INFINITY;
  /** Where claims start their scan of the due index (claim-floor.ts); fed by every notice. */
  private readonly floor = new ClaimFloor();

  private constructor(
    /** The pool, the listener, notices and the lost-connection policy (`retrying`, `write`). */
    private readonly db: StoreConnections,
    maxQueuedInserts: number | undefined,
  ) {
    this.ctx = db.ctx;
    this.description = db.description;
    this.inserts = new ExecutionInserts(db, maxQueuedInserts);
    db.subscribe((notice) => this.floor.notice(notice));
  }

  /** Connects the pool (one test query) and the listener. Does not migrate: the engine calls `migrate()`. */
  static async connect(options: PostgresStoreOptions): Promise<PostgresStore> {
    return new PostgresStore(await StoreConnections.open(options), options.maxQueuedInserts);
  }

  /** Folds status-count deltas now (also done every `compactEveryMs`); the delta rows folded, 0 when none or locked elsewhere. */
  compactCounts(): Promise<number> {
    return this.db.compactCounts();
  }

  async checkSchema(): Promise<void> {
    await this.db.retrying(() => checkSchema(this.db.pool, { s: this.ctx.s }, migrations));
  }

  async migrate(): Promise<void> {
    await this.db.retrying(() => runMigrations(this.db.pool, this.db.schema, { s: this.ctx.s }, migrations, this.db.logger));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async ping(): Promise<void> {
    await this.db.retrying(() => this.db.pool.query("SELECT 1"));
  }

  clockOffset(localNow: () => number): Promise<number> {
    return this.db.clockOffset(localNow);
  }

  watchTerminals(): Promise<() => Promise<void>> {
    return this.db.watchTerminals();
  }

  subscribe(listener: NoticeListener): () => void {
    return this.db.subscribe(listener);
  }

  /** Plain queued executions share inserts with concurrent ones (execution-inserts.ts); the others go alone. */
  createExecution(input: NewExecution): Promise<CreateResult> {
    return this.inserts.insert(input);
  }

  pendingInserts(): number {
    return this.inserts.pending();
  }

  createExecutions(inputs: readonly NewQueuedExecution[]): Promise<CreateResult[]> {
    return this.inserts.insertMany(inputs);
  }

  getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.db.retrying(() => queries.getExecution(this.ctx, id));
  }

  getStatuses(ids: readonly string[]): Promise<Map<string, ExecutionStatus>> {
    return this.db.retrying(() => queries.getStatuses(this.ctx, ids));
  }

  getStepDetail(id: string): Promise<StepDetail> {
    return this.db.retrying(() => queries.getStepDetail(this.ctx, id));
  }

  listExecutions(query: ListQuery): Promise<ListResult> {
    return this.db.retrying(() => queries.listExecutions(this.ctx, query));
  }

  countByStatus(): Promise<StatusCounts> {
    return this.db.retrying(() => queries.countByStatus(this.ctx));
  }

  cancelExecution(id: string, now: number): Promise<{ outcome: CancelOutcome; execution: ExecutionRecord | null }> {
    // Retried on a lost connection: a repeat of a cancel that committed answers already_cancelled.
    return this.db.emitting(this.db.retrying(() => cancelExecution(this.ctx, id, now)));
  }

  deliverEvent(request: DeliverRequest): Promise<DeliverOutcome> {
    return this.db.emitting(this.db.write(() => deliverEvent(this.ctx, request)));
  }

  async registerTasks(workerId: string, tasks: readonly TaskRegistration[], now: number): Promise<void> {
    // An upsert of absolute values: repeating it is harmless, so it may retry like a read.
    await this.db.retrying(() => queries.registerTasks(this.ctx, workerId, tasks, now));
  }

  getTask(name: string): Promise<TaskRegistration | null> {
    return this.db.retrying(() => queries.getTask(this.ctx, name));
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { claim: result, notices } = await this.floor.scan(request, (bounds) =>
      this.db.write(() => claim(this.ctx, { ...request, ...bounds })),
    );
    // Now and then, on the engine's clock: slots a lost connection kept from being handed on (consequences.ts).
    if (request.now - this.lastSlotSweep >= SLOT_SWEEP_MS) {
      this.lastSlotSweep = request.now;
      notices.push(...(await sweepSlots(this.ctx, request.now).catch(() => [])));
    }
    this.db.emit(notices);
    return result;
  }

  async applyCheckpoints(batch: readonly Checkpoint[]): Promise<boolean[]> {
    const { results, notices, published } = await this.db.write(() => applyCheckpoints(this.ctx, batch, null));
    this.db.emit(notices, published);
    return results;
  }

  async applyAndClaim(batch: readonly Checkpoint[], request: ClaimRequest): Promise<{ results: boolean[]; claim: ClaimResult }> {
    const claims = request.limit > 0 && request.tasks.length > 0;
    const outcome = await this.floor.scan(request, (bounds) =>
      this.db.write(() => applyCheckpoints(this.ctx, batch, claims ? { ...request, ...bounds } : null)),
    );
    this.db.emit(outcome.notices, outcome.published);
    return { results: outcome.results, claim: outcome.claim ?? (await this.claim(request)) };
  }

  /** An absolute update: repeating it is harmless, so it retries on a lost connection like a read. */
  releaseUnheld(workerId: string, held: readonly string[], now: number): Promise<number> {
    return this.db.retrying(() => releaseUnheld(this.ctx, workerId, held, now));
  }

  renewLeases(fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>> {
    return this.db.retrying(() => renewLeases(this.ctx, fences, now, leaseMs));
  }

  nextWakeAt(tasks: readonly string[]): Promise<number | null> {
    return this.db.retrying(() => nextWakeAt(this.ctx, tasks, this.floor.current(tasks)));
  }

  getTimeline(id: string): Promise<TimelineData | null> {
    return this.db.retrying(() => getTimeline(this.ctx, id));
  }

  /** An upsert of absolute values: repeating it is harmless. */
  async heartbeat(beat: WorkerBeat): Promise<void> {
    await this.db.retrying(() => fleet.heartbeat(this.ctx, beat));
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.db.retrying(() => fleet.removeWorker(this.ctx, workerId));
  }

  listWorkers(now: number): Promise<WorkerRecord[]> {
    return this.db.retrying(() => fleet.listWorkers(this.ctx, now));
  }

  listTasks(now: number): Promise<TaskSummary[]> {
    return this.db.retrying(() => fleet.listTasks(this.ctx, now));
  }

  /** Not repeated on a lost connection: a resume that committed unseen would be reported as refused. */
  resumeExecution(id: string, now: number): Promise<ResumeOutcome> {
    return this.db.emitting(this.db.write(() => resumeExecution(this.ctx, id, now)));
  }

  /** Not repeated on a lost connection (its insert would be the idempotent holder of its own key, or a second row). */
  rerunExecution(input: NewExecution & { rerunOf: string }, fromStep: string | null): Promise<RerunOutcome> {
    return this.db.emitting(this.db.write(() => rerunExecution(this.ctx, input, fromStep)));
  }

  /**
   * Not repeated on a lost connection: the batches that committed stay deleted, and the caller's next round
   * goes on from there. The lock is the connection's, so losing it ends the round and frees the lock.
   */
  pruneExecutions(request: PruneRequest): Promise<PruneOutcome> {
    return this.db.write(() => pruneExecutions(this.ctx, this.db.schema, request));
  }

  // Schedules (schedules.ts). Reads, pause/resume (absolute values), the code sync (a repeat finds its own
  // writes and changes nothing) and ticks (a repeat of a committed tick finds it moved on: `stale`) retry on
  // a lost connection; createSchedule does not, since a repeat of an unseen commit would answer "taken".
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord | null> {
    return this.db.write(() => schedules.createSchedule(this.ctx, schedule));
  }

  getSchedule(scheduleId: string): Promise<ScheduleRecord | null> {
    return this.db.retrying(() => schedules.getSchedule(this.ctx, scheduleId));
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.db.retrying(() => schedules.listSchedules(this.ctx));
  }

  deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.db.write(() => schedules.deleteSchedule(this.ctx, scheduleId));
  }

  setSchedulePaused(change: PauseChange): Promise<ScheduleRecord | null> {
    return this.db.retrying(() => schedules.setSchedulePaused(this.ctx, change));
  }

  syncCodeSchedules(sync: CodeScheduleSync): Promise<CodeSyncResult> {
    return this.db.retrying(() => schedules.syncCodeSchedules(this.ctx, sync));
  }

  scheduleWork(now: number, limit: number): Promise<ScheduleWork> {
    return this.db.retrying(() => schedules.scheduleWork(this.ctx, now, limit));
  }

  fireScheduleTick(tick: ScheduleTick): Promise<TickResult> {
    return this.db.emitting(this.db.retrying(() => schedules.fireScheduleTick(this.ctx, tick)));
  }

  releaseHeldTick(release: HeldTickRelease): Promise<TickResult> {
    return this.db.emitting(this.db.retrying(() => schedules.releaseHeldTick(this.ctx, release)));
  }
}
