// Long file (over 300 lines) on purpose: every Store method is here, each with how it behaves on a lost
// connection; the SQL lives in the modules it imports.
/**
 * The shared store: one PostgreSQL database for many API servers and workers on many machines. Claims use
 * `FOR UPDATE SKIP LOCKED`; checkpoints are group-committed through one server-side function call per
 * batch; notices reach this process's subscribers right after commit, and other processes through
 * LISTEN/NOTIFY published right after commit too (publisher.ts explains why not inside the transaction).
 *
 * Connections per instance: the pool (`poolSize`, default 10, opened lazily, idle ones closed after 10 s)
 * plus one dedicated LISTEN connection.
 *
 * Connection loss (server restart, failover, terminated backends): calls whose repetition is harmless retry
 * on a fresh pooled connection - reads, migrate, registerTasks and renewLeases (absolute values),
 * createExecution (it recognises its own committed insert by id) and cancelExecution (a repeat answers
 * already_cancelled). claim, applyCheckpoints and deliverEvent are not repeated here, because a first
 * attempt that committed unseen would be misreported (rows leased to nobody until the lease ends, a
 * completion reported as fenced out, a delivery reported as not_waiting); they fail with
 * `store_unavailable` and the engine decides. The pool drops dead idle clients on its own (the 'error'
 * handler below only logs), and the listener reconnects and re-LISTENs itself.
 */

import pg from "pg";
import { ZartError } from "../../core/errors.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { ExecutionRecord, ExecutionStatus, StatusCounts, TaskRegistration } from "../../core/types.js";
import { NoticeHub } from "../notice-hub.js";
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
  Notice,
  NoticeListener,
  PruneOutcome,
  PruneRequest,
  StepDetail,
  Store,
} from "../store.js";
import { DEFAULT_MAX_QUEUED_INSERTS } from "../store-errors.js";
import { applyCheckpoints } from "./checkpoint-writer.js";
import { claim, nextWakeAt, releaseUnheld, renewLeases } from "./claim.js";
import { cancelExecution, deliverEvent } from "./commands.js";
import { channelFor, describeUrl, isConnectionError, quoteIdent, storeUnavailable, typeParsers, validateSchemaName } from "./connection.js";
import { sweepSlots } from "./consequences.js";
import { createExecutions, insertExecution } from "./create.js";
import * as fleet from "./fleet.js";
import { InsertBatcher } from "./insert-batcher.js";
import { NotificationListener } from "./listener.js";
import { migrations, runMigrations } from "./migration-runner.js";
import { pruneExecutions } from "./prune.js";
import { NoticePublisher } from "./publisher.js";
import * as queries from "./queries.js";
import { rerunExecution, resumeExecution } from "./recovery.js";
import * as schedules from "./schedules.js";
import type { SqlContext } from "./sql-context.js";
import { getTimeline } from "./timeline.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Schema holding Zart's tables (default `zart`): letters, digits and `_`, at most 63. */
  schema?: string;
  /** Pool size (default 10). The store uses one more connection for LISTEN. */
  poolSize?: number;
  logger?: Logger;
  /** How often this store folds status-count deltas (default 2000 ms). */
  compactEveryMs?: number;
  /** New executions that may wait for a shared insert before `createExecution` answers `overloaded` (default 10,000). */
  maxQueuedInserts?: number;
}

/**
 * The backend PID a pooled client talks to. Notifications carry the sender's PID: those sent by our own
 * pool were already delivered to our subscribers right after commit, so the LISTEN echo is dropped and each
 * write yields one notice per subscriber here. node-postgres sets `processID` at startup but does not type it.
 */
function backendPid(client: pg.PoolClient): number | null {
  const pid = (client as unknown as { processID?: number | null }).processID;
  return typeof pid === "number" ? pid : null;
}

/**
 * When the server drops every connection at once (restart, failover, pg_terminate_backend), each idle
 * pooled client learns it only when its socket reports the close; a read that races those reports can pick
 * several dead clients in a row. So a read gets one attempt per pooled connection plus one, with a short
 * growing pause that lets the pool evict the dead clients (15, 30, 45 ms...).
 */
const READ_RETRY_PAUSE_MS = 15;
/** How often a claim also sweeps for rows waiting beside a free concurrency slot (consequences.ts). */
const SLOT_SWEEP_MS = 5_000;
/** A connect that hangs (unreachable host) fails rather than blocking a request forever. */
const CONNECT_TIMEOUT_MS = 15_000;

export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly description: string;
  readonly capabilities = { crossProcessNotices: true, sharedClock: true, fusedClaims: true } as const;
  private readonly ctx: SqlContext;
  private readonly notices: NoticeHub;
  /** Backend PIDs of this store's pooled connections (see `backendPid`). */
  private readonly ownBackends = new Set<number>();
  private listener: NotificationListener | null = null;
  private readonly publisher: NoticePublisher;
  private compactTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly inserts: InsertBatcher;
  private lastSlotSweep = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly channel: string,
    private readonly logger: Logger,
    private readonly poolSize: number,
    description: string,
    maxQueuedInserts: number,
  ) {
    this.description = description;
    this.ctx = { pool, s: quoteIdent(schema), logger };
    this.notices = new NoticeHub(logger);
    this.publisher = new NoticePublisher(pool, channel, logger);
    this.inserts = new InsertBatcher(
      {
        insertMany: (inputs) => this.createExecutions(inputs),
        insertOne: (input) => this.insertOne(input),
        isConnectionError: (error) => isConnectionError(error) || (error instanceof ZartError && error.code === "store_unavailable"),
      },
      Math.max(2, Math.floor(poolSize / 3)),
      maxQueuedInserts,
    );
  }

  /** Connects the pool (one test query) and the listener. Does not migrate: the engine calls `migrate()`. */
  static async connect(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = validateSchemaName(options.schema ?? "zart");
    const description = describeUrl(options.url, schema);
    const logger = (options.logger ?? silentLogger).child({ store: "postgres", location: description });
    const base: pg.ClientConfig = { connectionString: options.url, types: typeParsers, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
    const poolSize = options.poolSize ?? 10;
    const pool = new pg.Pool({ ...base, application_name: `zart:${schema}`.slice(0, 63), max: poolSize });
    // An idle client whose backend is terminated emits 'error' on the pool; unhandled, it would crash the process.
    pool.on("error", (error) => logger.warn({ err: error }, "idle postgres connection lost; the pool replaces it"));
    const maxQueued = options.maxQueuedInserts ?? DEFAULT_MAX_QUEUED_INSERTS;
    const store = new PostgresStore(pool, schema, channelFor(schema), logger, poolSize, description, maxQueued);
    pool.on("connect", (client) => {
      const pid = backendPid(client);
      if (pid !== null) store.ownBackends.add(pid);
    });
    pool.on("remove", (client) => {
      const pid = backendPid(client);
      if (pid !== null) store.ownBackends.delete(pid);
    });
    try {
      await pool.query("SELECT 1");
      await store.startListener({ ...base, application_name: `zart-listen:${schema}`.slice(0, 63) });
    } catch (error) {
      await store.close();
      throw isConnectionError(error) ? storeUnavailable(error, description) : error;
    }
    store.startCompaction(options.compactEveryMs ?? 2000);
    return store;
  }

  private async startListener(config: pg.ClientConfig): Promise<void> {
    const listener = new NotificationListener({
      config,
      channel: this.channel,
      logger: this.logger,
      onNotice: (notice, senderPid) => {
        if (senderPid === undefined || !this.ownBackends.has(senderPid)) this.notices.emit([notice]);
      },
    });
    this.listener = listener;
    await listener.start();
  }

  private startCompaction(everyMs: number): void {
    this.compactTimer = setInterval(() => {
      this.compactCounts().catch((error: unknown) => {
        if (this.closed) return;
        // Before the first migrate() the function does not exist yet: nothing to fold, nothing to report.
        const code = (error as { code?: unknown }).code;
        if (code === "3F000" || code === "42883") return;
        this.logger.warn({ err: error }, "status count compaction failed; will retry");
      });
    }, everyMs);
    this.compactTimer.unref();
  }

  /**
   * Folds status-count deltas now (the store also does it every `compactEveryMs`). Returns the delta rows
   * folded: 0 when there were none or another process holds the compaction lock at this moment.
   */
  compactCounts(): Promise<number> {
    return this.write(() => queries.compactCounts(this.ctx, this.schema));
  }

  async migrate(): Promise<void> {
    await this.retrying(() => runMigrations(this.pool, this.schema, { s: this.ctx.s }, migrations, this.logger));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.compactTimer = null;
    await this.publisher.flush();
    await this.listener?.close();
    await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.retrying(() => this.pool.query("SELECT 1"));
  }

  /** Plain queued executions share inserts with concurrent ones (insert-batcher.ts); the others go alone. */
  createExecution(input: NewExecution): Promise<CreateResult> {
    return InsertBatcher.accepts(input) ? this.inserts.submit(input) : this.insertOne(input);
  }

  private async insertOne(input: NewExecution): Promise<CreateResult> {
    // Retried on a lost connection: insertExecution() recognises its own earlier insert (see there).
    let notices: Notice[] = [];
    const result = await this.retrying((attempt) => {
      notices = [];
      return insertExecution(this.ctx, this.pool, input, notices, attempt > 1);
    });
    this.emit(notices);
    return result;
  }

  async createExecutions(inputs: readonly NewQueuedExecution[]): Promise<CreateResult[]> {
    // Retried on a lost connection like createExecution (see createExecutions() for how it recognises its own rows).
    const { result, notices } = await this.retrying((attempt) => createExecutions(this.ctx, inputs, attempt > 1));
    this.emit(notices);
    return result;
  }

  getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.retrying(() => queries.getExecution(this.ctx, id));
  }

  getStatuses(ids: readonly string[]): Promise<Map<string, ExecutionStatus>> {
    return this.retrying(() => queries.getStatuses(this.ctx, ids));
  }

  getStepDetail(id: string): Promise<StepDetail> {
    return this.retrying(() => queries.getStepDetail(this.ctx, id));
  }

  listExecutions(query: ListQuery): Promise<ListResult> {
    return this.retrying(() => queries.listExecutions(this.ctx, query));
  }

  countByStatus(): Promise<StatusCounts> {
    return this.retrying(() => queries.countByStatus(this.ctx));
  }

  async cancelExecution(id: string, now: number): Promise<{ outcome: CancelOutcome; execution: ExecutionRecord | null }> {
    // Retried on a lost connection: a repeat of a cancel that committed answers already_cancelled.
    const { result, notices } = await this.retrying(() => cancelExecution(this.ctx, id, now));
    this.emit(notices);
    return result;
  }

  async deliverEvent(request: DeliverRequest): Promise<DeliverOutcome> {
    const { result, notices } = await this.write(() => deliverEvent(this.ctx, request));
    this.emit(notices);
    return result;
  }

  async registerTasks(workerId: string, tasks: readonly TaskRegistration[], now: number): Promise<void> {
    // An upsert of absolute values: repeating it is harmless, so it may retry like a read.
    await this.retrying(() => queries.registerTasks(this.ctx, workerId, tasks, now));
  }

  getTask(name: string): Promise<TaskRegistration | null> {
    return this.retrying(() => queries.getTask(this.ctx, name));
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { result, notices } = await this.write(() => claim(this.ctx, request));
    // Now and then, on the engine's clock: slots a lost connection kept from being handed on (consequences.ts).
    if (request.now - this.lastSlotSweep >= SLOT_SWEEP_MS) {
      this.lastSlotSweep = request.now;
      notices.push(...(await sweepSlots(this.ctx, request.now).catch(() => [])));
    }
    this.emit(notices);
    return result;
  }

  async applyCheckpoints(batch: readonly Checkpoint[]): Promise<boolean[]> {
    const { results, notices } = await this.write(() => applyCheckpoints(this.ctx, batch, null));
    this.emit(notices);
    return results;
  }

  async applyAndClaim(batch: readonly Checkpoint[], request: ClaimRequest): Promise<{ results: boolean[]; claim: ClaimResult }> {
    const outcome = await this.write(() =>
      applyCheckpoints(this.ctx, batch, request.limit > 0 && request.tasks.length > 0 ? request : null),
    );
    this.emit(outcome.notices);
    return { results: outcome.results, claim: outcome.claim ?? (await this.claim(request)) };
  }

  /** An absolute update: repeating it is harmless, so it retries on a lost connection like a read. */
  releaseUnheld(workerId: string, held: readonly string[], now: number): Promise<number> {
    return this.retrying(() => releaseUnheld(this.ctx, workerId, held, now));
  }

  renewLeases(fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>> {
    return this.retrying(() => renewLeases(this.ctx, fences, now, leaseMs));
  }

  nextWakeAt(tasks: readonly string[]): Promise<number | null> {
    return this.retrying(() => nextWakeAt(this.ctx, tasks));
  }

  /**
   * The database clock minus `localNow()`: the smallest-round-trip of five samples, taking the database's
   * reading as made halfway through the round trip (so the error is at most half that round trip).
   */
  async clockOffset(localNow: () => number): Promise<number> {
    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
    for (let i = 0; i < 5; i++) {
      const sent = localNow();
      const row = await this.retrying(() =>
        this.pool.query<{ ms: number }>("SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS ms"),
      );
      const received = localNow();
      const rtt = received - sent;
      if (rtt < best.rtt) best = { rtt, offset: Math.round((row.rows[0]?.ms ?? 0) - (sent + received) / 2) };
    }
    return best.offset;
  }

  subscribe(listener: NoticeListener): () => void {
    return this.notices.subscribe(listener);
  }

  getTimeline(id: string): Promise<TimelineData | null> {
    return this.retrying(() => getTimeline(this.ctx, id));
  }

  /** An upsert of absolute values: repeating it is harmless. */
  async heartbeat(beat: WorkerBeat): Promise<void> {
    await this.retrying(() => fleet.heartbeat(this.ctx, beat));
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.retrying(() => fleet.removeWorker(this.ctx, workerId));
  }

  listWorkers(now: number): Promise<WorkerRecord[]> {
    return this.retrying(() => fleet.listWorkers(this.ctx, now));
  }

  listTasks(now: number): Promise<TaskSummary[]> {
    return this.retrying(() => fleet.listTasks(this.ctx, now));
  }

  /** Not repeated on a lost connection: a resume that committed unseen would be reported as refused. */
  async resumeExecution(id: string, now: number): Promise<ResumeOutcome> {
    const { result, notices } = await this.write(() => resumeExecution(this.ctx, id, now));
    this.emit(notices);
    return result;
  }

  /** Not repeated on a lost connection (its insert would be the idempotent holder of its own key, or a second row). */
  async rerunExecution(input: NewExecution & { rerunOf: string }, fromStep: string | null): Promise<RerunOutcome> {
    const { result, notices } = await this.write(() => rerunExecution(this.ctx, input, fromStep));
    this.emit(notices);
    return result;
  }

  /**
   * Not repeated on a lost connection: the batches that committed stay deleted, and the caller's next round
   * goes on from there. The lock is the connection's, so losing it ends the round and frees the lock.
   */
  pruneExecutions(request: PruneRequest): Promise<PruneOutcome> {
    return this.write(() => pruneExecutions(this.ctx, this.schema, request));
  }

  // Schedules (schedules.ts). Reads, pause/resume (absolute values), the code sync (a repeat finds its own
  // writes and changes nothing) and ticks (a repeat of a committed tick finds it moved on: `stale`) retry on
  // a lost connection; createSchedule does not, since a repeat of an unseen commit would answer "taken".
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord | null> {
    return this.write(() => schedules.createSchedule(this.ctx, schedule));
  }

  getSchedule(scheduleId: string): Promise<ScheduleRecord | null> {
    return this.retrying(() => schedules.getSchedule(this.ctx, scheduleId));
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.retrying(() => schedules.listSchedules(this.ctx));
  }

  deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.write(() => schedules.deleteSchedule(this.ctx, scheduleId));
  }

  setSchedulePaused(change: PauseChange): Promise<ScheduleRecord | null> {
    return this.retrying(() => schedules.setSchedulePaused(this.ctx, change));
  }

  syncCodeSchedules(sync: CodeScheduleSync): Promise<CodeSyncResult> {
    return this.retrying(() => schedules.syncCodeSchedules(this.ctx, sync));
  }

  scheduleWork(now: number, limit: number): Promise<ScheduleWork> {
    return this.retrying(() => schedules.scheduleWork(this.ctx, now, limit));
  }

  async fireScheduleTick(tick: ScheduleTick): Promise<TickResult> {
    const { result, notices } = await this.retrying(() => schedules.fireScheduleTick(this.ctx, tick));
    this.emit(notices);
    return result;
  }

  async releaseHeldTick(release: HeldTickRelease): Promise<TickResult> {
    const { result, notices } = await this.retrying(() => schedules.releaseHeldTick(this.ctx, release));
    this.emit(notices);
    return result;
  }

  /** Only after commit: to other processes, and to ours (where a listener that throws is logged and skipped). */
  private emit(notices: readonly Notice[]): void {
    this.publisher.publish(notices);
    this.notices.emit(notices);
  }

  /** For calls whose repetition is harmless: reads, absolute upserts, and the writes that say so. */
  private async retrying<T>(work: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work(attempt);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        if (attempt > this.poolSize || this.closed) throw storeUnavailable(error, this.description);
        this.logger.debug({ err: error, attempt }, "postgres call failed on a lost connection; retrying");
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_PAUSE_MS * attempt));
      }
    }
  }

  private async write<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw isConnectionError(error) ? storeUnavailable(error, this.description) : error;
    }
  }
}
