/**
 * What an Engine is made of, and how it starts and stops: the terminal-record cache, the task directory
 * and admission of new rows, long-poll waiters, the group committer, the worker with its heartbeat and
 * eager paths (when this process runs tasks), cron scheduling, retention rounds and the watch on unserved
 * tasks, and the store notices that drive them. Engine (engine.ts) is the public API over these parts.
 */
import type { ExecutionRecord } from "../core/types.js";
import type { Notice } from "../store/store.js";
import { GroupCommitter } from "../worker/group-committer.js";
import { Heartbeat } from "../worker/heartbeat.js";
import { Worker } from "../worker/worker.js";
import { Admission } from "./admission.js";
import { EagerPaths } from "./eager-paths.js";
import { ExecutionOperations } from "./operations.js";
import { Pruning } from "./pruning.js";
import type { ResolvedEngineOptions } from "./resolve-options.js";
import { Scheduling } from "./schedules/scheduling.js";
import type { SyncedClock } from "./synced-clock.js";
import { TaskDirectory } from "./task-directory.js";
import { TerminalCache } from "./terminal-cache.js";
import { UnservedTasks } from "./unserved-tasks.js";
import { Waiters } from "./waiters.js";

export class EngineRuntime {
  readonly terminal: TerminalCache;
  readonly directory: TaskDirectory;
  readonly admission: Admission;
  readonly waiters: Waiters;
  readonly committer: GroupCommitter;
  readonly worker: Worker | null;
  readonly eager: EagerPaths | null;
  readonly heartbeat: Heartbeat | null;
  readonly scheduling: Scheduling;
  readonly pruning: Pruning;
  readonly unserved: UnservedTasks;
  readonly operations: ExecutionOperations;
  private unsubscribe: (() => void) | null = null;

  /** `get`: the engine's read of an execution (through the terminal cache), for the operations. */
  constructor(
    private readonly options: ResolvedEngineOptions,
    get: (id: string) => Promise<ExecutionRecord>,
  ) {
    const { store, clock, logger } = options;
    this.terminal = new TerminalCache(() => clock.now());
    this.directory = new TaskDirectory(options.tasks, store, clock);
    this.admission = new Admission(this.directory, clock, options.maxPayloadBytes);
    this.waiters = new Waiters(store, clock, logger, options.safetyPollMs);
    // Two flushes in flight and at most 500 checkpoints per transaction: docs/decisions/002-group-commit.md.
    // 64 MB of values per batch stays well under PostgreSQL's 255 MB jsonb limit.
    this.committer = new GroupCommitter(store, clock, logger, {
      maxBatch: 500,
      maxBatchChars: 64 * 1024 * 1024,
      maxInFlight: 2,
      retryForMs: options.worker?.leaseMs ?? 30_000,
    });
    this.worker = options.worker ? this.createWorker(options) : null;
    const fused = store.capabilities.fusedClaims;
    if (this.worker && fused) this.committer.setClaimer(this.worker);
    this.eager =
      this.worker && options.worker && fused
        ? new EagerPaths(store, this.worker, this.claimFor(), [...options.tasks.keys()], options.worker.eagerStart)
        : null;
    this.heartbeat = this.worker ? this.createHeartbeat(options, this.worker) : null;
    this.scheduling = new Scheduling(options, this.directory);
    this.pruning = new Pruning({
      store,
      clock,
      logger,
      metrics: options.metrics,
      holder: options.workerId,
      retention: options.retention,
      onPruned: () => this.terminal.clear(),
    });
    const local = new Set(this.worker ? options.tasks.keys() : []);
    this.unserved = new UnservedTasks({ store, clock, logger, local });
    this.operations = new ExecutionOperations({
      store,
      clock,
      terminal: this.terminal,
      get,
      prepare: async (request) => this.admission.newExecution(await this.admission.check(request), clock.now()),
      onScheduled: (task, id) => this.scheduled(task, id),
    });
  }

  private createHeartbeat(options: ResolvedEngineOptions, worker: Worker): Heartbeat {
    const { store, clock, logger, workerId } = options;
    const { concurrency, leaseMs } = options.worker!;
    const tasks = [...options.tasks.keys()];
    return new Heartbeat({ store, clock, logger, workerId, tasks, concurrency, leaseMs, running: () => worker.runningCount() });
  }

  private createWorker(options: ResolvedEngineOptions): Worker {
    const worker = options.worker!;
    const { clock, logger, metrics } = options;
    return new Worker({
      store: options.store,
      clock,
      logger,
      workerId: options.workerId,
      tasks: options.tasks,
      options: worker,
      onClaim: (count, ms) => metrics.claimed(count, ms),
      onLaunch: (task) => metrics.started(task),
      runnerDeps: {
        clock,
        logger,
        maxPayloadBytes: options.maxPayloadBytes,
        inPlaceBackoffMaxMs: worker.inPlaceBackoffMaxMs,
        random: options.random,
        commit: (checkpoint) => this.committer.submit(checkpoint),
        commitProgress: (checkpoint) => this.committer.submitProgress(checkpoint),
        prepareChild: (request) => this.admission.child(request),
        onFinished: (task, outcome, id) => metrics.finished(task, outcome, id),
        onTerminal: (id, values, record) => this.terminal.rememberWritten(id, values, record),
        onStepFinished: (task, step, ms, ok) => metrics.stepFinished(task, step, ms, ok),
        onStepOutcome: (task, step, outcome) => metrics.stepOutcome?.(task, step, outcome),
      },
    });
  }

  /** How an eager start or resume claims for this process's worker. */
  private claimFor(): { workerId: string; leaseMs: number } {
    return { workerId: this.options.workerId, leaseMs: this.options.worker?.leaseMs ?? 30_000 };
  }

  async begin(): Promise<void> {
    const { store, clock, workerId } = this.options;
    let beating = false;
    try {
      if (this.options.migrate) await store.migrate();
      else await store.checkSchema();
      if (this.worker) await store.registerTasks(workerId, this.directory.registrations(), clock.now());
      beating = this.heartbeat !== null;
      await this.heartbeat?.start();
      this.unsubscribe = store.subscribe((notice) => this.onNotice(notice));
      await this.scheduling.start();
    } catch (error) {
      // A start that fails leaves nothing behind: no listener, no heartbeat row or timer, no clock timer
      // (they would keep the caller's process alive after it closed the store).
      this.unsubscribe?.();
      if (beating) await this.heartbeat?.stop();
      this.stopClock();
      throw error;
    }
    this.worker?.start();
    this.pruning.start();
  }

  private onNotice(notice: Notice): void {
    if (notice.kind === "terminal") this.waiters.wake(notice.executionId);
    else if (notice.kind === "resumed") this.terminal.forget(notice.executionId);
    else if (notice.kind === "reconnected") {
      this.terminal.clear();
      void this.waiters.safetyCheck();
    } else if (notice.kind === "changed") void this.waiters.safetyCheck();
    this.scheduling.onNotice(notice);
  }

  /** Graceful stop: drain or release running work, answer long-polls. The caller closes the store. */
  async stop(): Promise<void> {
    await this.pruning.stop();
    await this.scheduling.stop();
    await this.worker?.stop();
    await this.heartbeat?.stop();
    await this.committer.drain();
    this.waiters.wakeAll();
    this.waiters.stop();
    this.unsubscribe?.();
    this.stopClock();
  }

  private stopClock(): void {
    (this.options.clock as Partial<SyncedClock>).stop?.();
  }

  /** A new execution was written (not an idempotent repeat). */
  scheduled(task: string, executionId: string): void {
    this.options.metrics.scheduled(task);
    this.unserved.scheduled(task, executionId);
  }
}
