/**
 * The embedded store: one SQLite file in WAL mode, shareable by several processes on one machine.
 * better-sqlite3 is synchronous, so every method finishes its transaction before it returns and no
 * transaction ever spans an `await`; writers queue on the file lock (BEGIN IMMEDIATE + busy_timeout) rather
 * than failing with SQLITE_BUSY. SQLite has no cross-process notifications: notices reach only this
 * process's subscribers. What other processes commit is seen by watching `PRAGMA data_version` while anyone
 * subscribes (commit-watcher.ts), and announced as a `changed` notice. Each method is a call into the module
 * that holds its SQL.
 */

import { resolve } from "node:path";
import type Database from "better-sqlite3";
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
  NoticeListener,
  PruneOutcome,
  PruneRequest,
  StepDetail,
  Store,
} from "../store.js";
import { DEFAULT_MAX_QUEUED_INSERTS } from "../store-errors.js";
import { applyCheckpoints, releaseUnheld, renewLeases } from "./checkpoint-writer.js";
import { claim, nextWakeAt } from "./claim.js";
import { cancelExecution, deliverEvent } from "./commands.js";
import { CommitWatcher } from "./commit-watcher.js";
import { createExecutions } from "./create.js";
import * as fleet from "./fleet.js";
import { InsertBatcher } from "./insert-batcher.js";
import { checkSchema, migrations, runMigrations } from "./migration-runner.js";
import { OpenedFile, openDatabase } from "./open-database.js";
import { pruneExecutions } from "./prune.js";
import { countByStatus, getExecution, getStatuses, getStepDetail, getTask, listExecutions, registerTasks } from "./queries.js";
import { rerunExecution, resumeExecution } from "./recovery.js";
import * as schedules from "./schedules.js";
import { type Connection, StatementCache } from "./statement-cache.js";
import { getTimeline } from "./timeline.js";

export interface SqliteStoreOptions {
  path: string;
  /** `normal` (default) survives a killed process; `full` also survives power loss, at a cost per commit. */
  sync?: "normal" | "full";
  logger?: Logger;
  /** New executions that may wait for the next shared insert before `createExecution` answers `overloaded` (default 10,000). */
  maxQueuedInserts?: number;
}

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly description: string;
  readonly capabilities = { crossProcessNotices: false, sharedClock: false, fusedClaims: true } as const;
  private readonly conn: Connection;
  private readonly notices: NoticeHub;
  private readonly inserts: InsertBatcher;
  private readonly logger: Logger;
  private readonly watcher: CommitWatcher;
  /** The file this connection opened (none in memory): readiness fails once the path names another or none. */
  private readonly file: OpenedFile | null;

  private constructor(db: Database.Database, path: string, logger: Logger, maxQueuedInserts: number) {
    this.description = path;
    this.conn = { db, sql: new StatementCache(db) };
    this.logger = logger;
    this.notices = new NoticeHub(logger);
    this.inserts = new InsertBatcher(this.conn, (notices) => this.notices.emit(notices), maxQueuedInserts);
    this.watcher = new CommitWatcher(db, this.notices);
    this.file = path === ":memory:" ? null : new OpenedFile(path);
  }

  /** Opens (creating if needed) the file and sets the connection pragmas; the schema comes from `migrate()`. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const path = options.path === ":memory:" ? options.path : resolve(options.path);
    const logger = (options.logger ?? silentLogger).child({ store: "sqlite", path });
    const db = openDatabase(path, options.sync);
    return new SqliteStore(db, path, logger, options.maxQueuedInserts ?? DEFAULT_MAX_QUEUED_INSERTS);
  }

  async checkSchema(): Promise<void> {
    checkSchema(this.conn.db, migrations);
  }

  async migrate(): Promise<void> {
    runMigrations(this.conn.db, migrations, this.logger);
  }

  async close(): Promise<void> {
    this.watcher.stop();
    if (this.conn.db.open) this.conn.db.close();
  }

  async ping(): Promise<void> {
    this.conn.sql.get("SELECT 1").get();
    this.file?.check();
  }
  /** One machine, one clock. */
  async clockOffset(): Promise<number> {
    return 0;
  }

  createExecution(input: NewExecution): Promise<CreateResult> {
    return this.inserts.submit(input);
  }

  pendingInserts(): number {
    return this.inserts.pending();
  }

  async createExecutions(inputs: readonly NewQueuedExecution[]): Promise<CreateResult[]> {
    const { results, notices } = createExecutions(this.conn, inputs);
    this.notices.emit(notices);
    return results;
  }

  async getExecution(id: string): Promise<ExecutionRecord | null> {
    return getExecution(this.conn, id);
  }

  async getStatuses(ids: readonly string[]): Promise<Map<string, ExecutionStatus>> {
    return getStatuses(this.conn, ids);
  }

  async getStepDetail(id: string): Promise<StepDetail> {
    return getStepDetail(this.conn, id);
  }

  async listExecutions(query: ListQuery): Promise<ListResult> {
    return listExecutions(this.conn, query);
  }

  async countByStatus(): Promise<StatusCounts> {
    return countByStatus(this.conn);
  }

  async cancelExecution(id: string, now: number): Promise<{ outcome: CancelOutcome; execution: ExecutionRecord | null }> {
    const { result, notices } = cancelExecution(this.conn, id, now);
    this.notices.emit(notices);
    return result;
  }

  async deliverEvent(request: DeliverRequest): Promise<DeliverOutcome> {
    const { result, notices } = deliverEvent(this.conn, request);
    this.notices.emit(notices);
    return result;
  }

  async registerTasks(workerId: string, tasks: readonly TaskRegistration[], now: number): Promise<void> {
    registerTasks(this.conn, workerId, tasks, now);
  }

  async getTask(name: string): Promise<TaskRegistration | null> {
    return getTask(this.conn, name);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { result, notices } = claim(this.conn, request);
    this.notices.emit(notices);
    return result;
  }

  async applyCheckpoints(batch: readonly Checkpoint[]): Promise<boolean[]> {
    if (batch.length === 0) return [];
    const { results, notices } = applyCheckpoints(this.conn, batch);
    this.notices.emit(notices);
    return results;
  }

  /** Local and synchronous: two transactions cost no round trip here. */
  async applyAndClaim(batch: readonly Checkpoint[], request: ClaimRequest): Promise<{ results: boolean[]; claim: ClaimResult }> {
    const results = await this.applyCheckpoints(batch);
    const { result, notices } = claim(this.conn, request);
    this.notices.emit(notices);
    return { results, claim: result };
  }

  async releaseUnheld(workerId: string, held: readonly string[], now: number): Promise<number> {
    return releaseUnheld(this.conn, workerId, held, now);
  }

  async renewLeases(fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>> {
    if (fences.length === 0) return new Set();
    return renewLeases(this.conn, fences, now, leaseMs);
  }

  async nextWakeAt(tasks: readonly string[]): Promise<number | null> {
    return nextWakeAt(this.conn, tasks);
  }

  /** Also starts watching for other processes' commits (once; stopped by close()). */
  subscribe(listener: NoticeListener): () => void {
    this.watcher.start();
    return this.notices.subscribe(listener);
  }

  async getTimeline(id: string): Promise<TimelineData | null> {
    return getTimeline(this.conn, id);
  }

  async heartbeat(beat: WorkerBeat): Promise<void> {
    fleet.heartbeat(this.conn, beat);
  }

  async removeWorker(workerId: string): Promise<void> {
    fleet.removeWorker(this.conn, workerId);
  }

  async listWorkers(now: number): Promise<WorkerRecord[]> {
    return fleet.listWorkers(this.conn, now);
  }

  async listTasks(now: number): Promise<TaskSummary[]> {
    return fleet.listTasks(this.conn, now);
  }

  async resumeExecution(id: string, now: number): Promise<ResumeOutcome> {
    const { result, notices } = resumeExecution(this.conn, id, now);
    this.notices.emit(notices);
    return result;
  }

  async rerunExecution(input: NewExecution & { rerunOf: string }, fromStep: string | null): Promise<RerunOutcome> {
    const { result, notices } = rerunExecution(this.conn, input, fromStep);
    this.notices.emit(notices);
    return result;
  }

  pruneExecutions(request: PruneRequest): Promise<PruneOutcome> {
    return pruneExecutions(this.conn, request);
  }

  async createSchedule(schedule: NewSchedule): Promise<ScheduleRecord | null> {
    return schedules.createSchedule(this.conn, schedule);
  }

  async getSchedule(scheduleId: string): Promise<ScheduleRecord | null> {
    return schedules.getSchedule(this.conn, scheduleId);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return schedules.listSchedules(this.conn);
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    return schedules.deleteSchedule(this.conn, scheduleId);
  }

  async setSchedulePaused(change: PauseChange): Promise<ScheduleRecord | null> {
    return schedules.setSchedulePaused(this.conn, change);
  }

  async syncCodeSchedules(sync: CodeScheduleSync): Promise<CodeSyncResult> {
    return schedules.syncCodeSchedules(this.conn, sync);
  }

  async scheduleWork(now: number, limit: number): Promise<ScheduleWork> {
    return schedules.scheduleWork(this.conn, now, limit);
  }

  async fireScheduleTick(tick: ScheduleTick): Promise<TickResult> {
    const { result, notices } = schedules.fireScheduleTick(this.conn, tick);
    this.notices.emit(notices);
    return result;
  }

  async releaseHeldTick(release: HeldTickRelease): Promise<TickResult> {
    const { result, notices } = schedules.releaseHeldTick(this.conn, release);
    this.notices.emit(notices);
    return result;
  }
}
