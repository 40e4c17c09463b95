/**
 * The engine: what the HTTP server and library users call. It checks requests, talks to the store, wakes
 * long-poll waiters on terminal notices and (unless API-only) runs a {@link Worker}.
 *
 * ```ts
 * const store = await openStore("./zart.db");
 * const engine = await Engine.start({ store, tasks: [myTask] });
 * const { execution } = await engine.schedule({ task: "my-task", data: { n: 1 } });
 * const done = await engine.waitForTerminal(execution.id, 30_000);
 * await engine.stop();
 * await store.close();
 * ```
 *
 * Over 300 lines because it is the whole public API in one place; its methods are short and delegate to the
 * modules beside it (requests, eager paths, waiters, operations).
 */
import { ZartError } from "../core/errors.js";
import { checkJsonSchema } from "../core/schema.js";
import { isTaskDefinition, type TaskDefinition } from "../core/task.js";
import type { EventMap, EventName, PayloadArg } from "../core/task-types.js";
import { type ExecutionRecord, isTerminal, type StatusCounts } from "../core/types.js";
import type { TaskSummary, WorkerRecord } from "../store/operations.js";
import type { DeliverOutcome, DeliverRequest, ListQuery, ListResult, NewExecution, Notice, StepDetail } from "../store/store.js";
import type { ChildRequest } from "../worker/execution-context.js";
import { GroupCommitter } from "../worker/group-committer.js";
import { Heartbeat } from "../worker/heartbeat.js";
import { Worker } from "../worker/worker.js";
import type { RerunRequest, ScheduleRequest, ScheduleResult, TaskInfo, ZartApi } from "./api.js";
import { EagerPaths } from "./eager-paths.js";
import type { EngineOptions } from "./engine-options.js";
import { executionNotFound, isExecutionId, newExecutionId } from "./execution-id.js";
import { ExecutionOperations } from "./operations.js";
import { type CheckedSchedule, checkedEvent, checkedSchedule } from "./requests.js";
import { type ResolvedEngineOptions, resolveEngineOptions } from "./resolve-options.js";
import { type EngineSchedules, Scheduling } from "./schedules/scheduling.js";
import { SyncedClock } from "./synced-clock.js";
import { TaskDirectory } from "./task-directory.js";
import { TerminalCache } from "./terminal-cache.js";
import type { Timeline } from "./timeline.js";
import {
  type ExecutionRef,
  type ExecutionResult,
  idOf,
  LONGEST_WAIT_MS,
  parsedExecution,
  payloadJson,
  type ScheduledTask,
  scheduledTask,
  type TaskScheduleOptions,
  taskRequest,
} from "./typed-calls.js";
import { type UnservedTask, UnservedTasks } from "./unserved-tasks.js";
import { Waiters } from "./waiters.js";

/** Most executions one scheduleMany call takes (bounds one statement's size and the memory it holds). */
const MAX_BATCH = 10_000;

export class Engine implements ZartApi {
  readonly options: ResolvedEngineOptions;
  readonly worker: Worker | null;
  private readonly directory: TaskDirectory;
  private readonly terminal: TerminalCache;
  private readonly operations: ExecutionOperations;
  private readonly heartbeat: Heartbeat | null;
  private readonly waiters: Waiters;
  private readonly committer: GroupCommitter;
  private readonly eager: EagerPaths | null;
  private readonly unserved: UnservedTasks;
  private readonly scheduling: Scheduling;
  private unsubscribe: (() => void) | null = null;

  private constructor(options: ResolvedEngineOptions) {
    this.options = options;
    const { store, clock, logger } = options;
    this.terminal = new TerminalCache(() => clock.now());
    this.directory = new TaskDirectory(options.tasks, store, clock);
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
    const local = new Set(this.worker ? options.tasks.keys() : []);
    this.unserved = new UnservedTasks({ store, clock, logger, local });
    this.operations = new ExecutionOperations({
      store,
      clock,
      terminal: this.terminal,
      get: (id) => this.get(id),
      prepare: async (request) => this.newExecution(await this.checkedSchedule(request), clock.now()),
      onScheduled: (task, id) => this.onScheduled(task, id),
    });
  }

  private createHeartbeat(options: ResolvedEngineOptions, worker: Worker): Heartbeat {
    const { store, clock, logger, workerId } = options;
    const { concurrency, leaseMs } = options.worker!;
    const tasks = [...options.tasks.keys()];
    return new Heartbeat({ store, clock, logger, workerId, tasks, concurrency, leaseMs, running: () => worker.runningCount() });
  }

  /** Cron schedules: create, list, get, delete, pause, resume (docs/schedules.md). */
  get schedules(): EngineSchedules {
    return this.scheduling.schedules;
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const resolved = resolveEngineOptions(options);
    const clock = await SyncedClock.for(resolved.clock, resolved.store, resolved.logger);
    const engine = new Engine({ ...resolved, clock });
    await engine.begin();
    return engine;
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
        prepareChild: (request) => this.prepareChild(request),
        onFinished: (task, outcome, id) => metrics.finished(task, outcome, id),
        onTerminal: (execution) => this.terminal.remember(execution),
        onStepFinished: (task, step, ms, ok) => metrics.stepFinished(task, step, ms, ok),
        onStepOutcome: (task, step, outcome) => metrics.stepOutcome?.(task, step, outcome),
      },
    });
  }

  private async begin(): Promise<void> {
    const { store, clock, workerId } = this.options;
    if (this.options.migrate) await store.migrate();
    if (this.worker) await store.registerTasks(workerId, this.directory.registrations(), clock.now());
    await this.heartbeat?.start();
    this.unsubscribe = store.subscribe((notice) => this.onNotice(notice));
    try {
      await this.scheduling.start();
    } catch (error) {
      this.unsubscribe();
      throw error;
    }
    this.worker?.start();
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
    await this.scheduling.stop();
    await this.worker?.stop();
    await this.heartbeat?.stop();
    await this.committer.drain();
    this.waiters.wakeAll();
    this.waiters.stop();
    this.unsubscribe?.();
    (this.options.clock as Partial<SyncedClock>).stop?.();
  }

  /**
   * Schedules an execution: by request (`{ task: "name", data }`), or by task definition, whose data type
   * `data` must match; the latter answers a handle typed with the task's output and events.
   */
  schedule(request: ScheduleRequest): Promise<ScheduleResult>;
  schedule<I, O, E extends EventMap>(
    task: TaskDefinition<I, O, string, E>,
    data: I,
    options?: TaskScheduleOptions,
  ): Promise<ScheduledTask<O, E>>;
  async schedule(first: ScheduleRequest | TaskDefinition, data?: unknown, options?: TaskScheduleOptions): Promise<ScheduleResult> {
    if (isTaskDefinition(first)) return scheduledTask(await this.schedule(taskRequest(first, data, options)));
    const request = first;
    const checked = await this.checkedSchedule(request);
    const input = this.newExecution(checked, this.options.clock.now());
    const result = this.eager ? await this.eager.insert(input, request.eager) : await this.options.store.createExecution(input);
    if (!result.created && result.execution.task !== checked.task) {
      throw new ZartError(
        "execution_already_exists",
        `Idempotency key "${checked.idempotencyKey}" is already used by an execution of task "${result.execution.task}"`,
      );
    }
    if (result.created) this.onScheduled(checked.task, result.execution.id);
    return result;
  }

  /**
   * Schedules many executions in one store transaction (all or none), results in request order. Every
   * request is checked before anything is written; the first invalid one throws (its code, its index in
   * the message). Batched executions always queue (no eager start). An idempotency key already held
   * returns the holder with `created: false`, even when it belongs to another task (a batch cannot fail
   * after its commit): compare `execution.task` if that matters. They share one `created_at`, so among
   * themselves they are listed and claimed in id order.
   */
  async scheduleMany(requests: readonly ScheduleRequest[]): Promise<ScheduleResult[]> {
    if (!Array.isArray(requests) || requests.length > MAX_BATCH) {
      throw new ZartError("invalid_data", `scheduleMany takes an array of at most ${MAX_BATCH} requests`);
    }
    const checked: CheckedSchedule[] = [];
    for (const [i, request] of requests.entries()) {
      try {
        checked.push(await this.checkedSchedule(request));
      } catch (error) {
        if (!(error instanceof ZartError)) throw error;
        throw new ZartError(error.code, `requests[${i}]: ${error.message}`);
      }
    }
    const now = this.options.clock.now();
    const results = await this.options.store.createExecutions(checked.map((c) => this.newExecution(c, now)));
    for (const result of results) if (result.created) this.onScheduled(result.execution.task, result.execution.id);
    return results;
  }

  private async checkedSchedule(request: ScheduleRequest): Promise<CheckedSchedule> {
    const checked = checkedSchedule(request, this.options.maxPayloadBytes);
    const admitted = await this.directory.admit(checked.task, checked.data, checked.concurrencyKey);
    return { ...checked, ...admitted };
  }

  private newExecution(checked: CheckedSchedule, now: number): NewExecution {
    const { task, dataJson, idempotencyKey, startAt, priority, concurrency, traceparent } = checked;
    return { id: newExecutionId(now), task, dataJson, idempotencyKey, now, startAt, priority, concurrency, traceparent };
  }

  /** A child execution's row, checked like a POST (task known, data valid). */
  private async prepareChild(request: ChildRequest): Promise<NewExecution> {
    const task = typeof request.task === "string" ? request.task : request.task.name;
    const { options } = request;
    const startAt = options.startAt === undefined ? undefined : new Date(options.startAt).toISOString();
    const checked = await this.checkedSchedule({
      task,
      data: request.data,
      priority: options.priority,
      startAt,
      concurrencyKey: options.concurrencyKey,
    });
    const child = this.newExecution(checked, this.options.clock.now());
    return { ...child, parent: { ...request.parent, cancelWithParent: options.detached !== true } };
  }

  /** How an eager start or resume claims for this process's worker. */
  private claimFor(): { workerId: string; leaseMs: number } {
    return { workerId: this.options.workerId, leaseMs: this.options.worker?.leaseMs ?? 30_000 };
  }

  async get(id: string): Promise<ExecutionRecord> {
    const cached = this.terminal.get(id);
    if (cached) return cached;
    const execution = isExecutionId(id) ? await this.options.store.getExecution(id) : null;
    if (!execution) throw executionNotFound(id);
    // A terminal record never changes, so one read serves every later GET or wait of it from memory.
    if (isTerminal(execution.status)) this.terminal.remember(execution);
    return execution;
  }

  list(query: ListQuery): Promise<ListResult> {
    return this.options.store.listExecutions(query);
  }

  async cancel(id: string): Promise<ExecutionRecord> {
    if (!isExecutionId(id)) throw executionNotFound(id);
    const { outcome, execution } = await this.options.store.cancelExecution(id, this.options.clock.now());
    if (outcome === "not_found" || !execution) throw executionNotFound(id);
    if (outcome === "not_cancellable") {
      throw new ZartError("execution_not_cancellable", `Execution ${id} is ${execution.status} and cannot be cancelled`);
    }
    return execution;
  }

  /**
   * Delivers an event (`payloadJson`: its JSON text). Answers "buffered" when the task keeps events sent
   * before their wait (`events: "buffered"`). Throws execution_not_found, not_waiting_for_event, invalid_data.
   */
  async deliverEvent(id: string, eventName: string, payloadJson: string): Promise<"delivered" | "buffered"> {
    if (!isExecutionId(id)) throw executionNotFound(id);
    checkedEvent(eventName, payloadJson, this.options.maxPayloadBytes);
    const request: DeliverRequest = {
      executionId: id,
      eventName,
      payloadJson,
      now: this.options.clock.now(),
      validate: (schemaText, payload) => checkJsonSchema(schemaText, JSON.parse(payload), "payload"),
    };
    const result: DeliverOutcome = this.eager ? await this.eager.deliver(request) : await this.options.store.deliverEvent(request);
    switch (result.outcome) {
      case "not_found":
        throw executionNotFound(id);
      case "not_waiting":
        throw new ZartError("not_waiting_for_event", notWaitingMessage(id, eventName, result.reason));
      case "invalid":
        throw new ZartError("invalid_data", result.message);
      case "buffered":
      case "delivered":
        return result.outcome;
    }
  }

  async waitForTerminal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<ExecutionRecord> {
    // Register before reading, so a terminal notice between the read and the registration is not missed.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const waiting = this.waiters.wait(id, Math.max(0, timeoutMs), stop.signal);
    try {
      // This process runs it (e.g. an eager start): the run's end says more than a read would, and a run
      // that completes leaves its record in the terminal cache.
      const run = this.worker?.runOf(id) ?? null;
      if (run !== null) {
        await Promise.race([waiting, run]);
        await this.cachingHops(id, run);
      }
      const execution = await this.get(id);
      if (isTerminal(execution.status) || timeoutMs <= 0 || signal?.aborted) return execution;
      await waiting;
      await this.cachingHops(id);
      return await this.get(id);
    } finally {
      stop.abort();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The terminal notice is emitted as the commit returns, a few promise hops before this process's runner
   * (if it ran the execution) caches the final record; let those hops finish so the record comes from
   * memory instead of a store read. With the run at hand, its end is what to wait for; a run cancelled
   * elsewhere may not end soon, so one turn of the event loop bounds the wait.
   */
  private async cachingHops(id: string, run: Promise<void> | null = null): Promise<void> {
    if (this.terminal.has(id)) return;
    const turn = new Promise((resolve) => setImmediate(resolve));
    await (run === null ? turn : Promise.race([run, turn]));
  }

  stats(): Promise<StatusCounts> {
    return this.options.store.countByStatus();
  }

  async stepDetail(id: string): Promise<StepDetail> {
    await this.get(id);
    return this.options.store.getStepDetail(id);
  }

  ready(): Promise<void> {
    return this.options.store.ping();
  }

  unservedTasks(): Promise<UnservedTask[]> {
    return this.unserved.list();
  }

  private onScheduled(task: string, executionId: string): void {
    this.options.metrics.scheduled(task);
    this.unserved.scheduled(task, executionId);
  }

  async tasks(): Promise<TaskInfo[]> {
    return [...this.options.tasks.values()].map((t) => ({ name: t.name, inputSchemaJson: t.input?.jsonSchemaText ?? null, local: true }));
  }

  openWaiters(): number {
    return this.waiters.size;
  }

  steps(id: string): Promise<Timeline> {
    return this.operations.steps(id);
  }

  taskList(): Promise<TaskSummary[]> {
    return this.operations.taskList();
  }

  workers(): Promise<WorkerRecord[]> {
    return this.operations.workers();
  }

  retry(id: string): Promise<ExecutionRecord> {
    return this.operations.retry(id);
  }

  rerun(id: string, request: RerunRequest = {}): Promise<ScheduleResult> {
    return this.operations.rerun(id, request);
  }

  /**
   * The execution with its output parsed and typed (from a handle of `schedule(task, …)`), once it is
   * terminal, or as it is when `timeoutMs` (default: about 24 days) passes or `signal` aborts.
   */
  async result<O>(execution: ExecutionRef<O>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecutionResult<O>> {
    const record = await this.waitForTerminal(idOf(execution), options.timeoutMs ?? LONGEST_WAIT_MS, options.signal);
    return parsedExecution<O>(record);
  }

  /**
   * Delivers an event given as a value (`deliverEvent` takes JSON text). With a handle of
   * `schedule(task, …)`, the name and payload are checked against the task's `eventSchemas` types.
   */
  sendEvent<E extends EventMap, N extends EventName<E>>(
    execution: ExecutionRef<unknown, E>,
    name: N,
    ...payload: PayloadArg<E[N]>
  ): Promise<"delivered" | "buffered">;
  sendEvent(execution: string, name: string, payload?: unknown): Promise<"delivered" | "buffered">;
  async sendEvent(execution: ExecutionRef, name: string, payload?: unknown): Promise<"delivered" | "buffered"> {
    return this.deliverEvent(idOf(execution), name, payloadJson(payload, this.options.maxPayloadBytes));
  }
}

function notWaitingMessage(id: string, eventName: string, reason: "no_wait" | "timed_out" | "ended"): string {
  const base = `Execution ${id} is not waiting for event "${eventName}"`;
  if (reason === "timed_out") return `${base}: the wait timed out`;
  if (reason === "ended") return `${base}: it has ended`;
  return base;
}
