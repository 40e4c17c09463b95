/**
 * The engine: what the HTTP server and library users call. It checks requests, talks to the store, wakes
 * long-poll waiters on terminal notices and (unless API-only) runs a {@link Worker}. Just over 300 lines
 * because it is the public API's one class: each of its methods is a few lines that delegate (to the
 * store, the runtime's parts or operations.ts), and splitting it would scatter the API users read.
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
 * What it is made of, and how it starts and stops, is runtime.ts; how a request becomes a row, admission.ts.
 */
import { ZartError } from "../core/errors.js";
import { checkJsonSchema } from "../core/schema.js";
import { isTaskDefinition, type TaskDefinition } from "../core/task.js";
import type { EventMap, EventName, PayloadArg } from "../core/task-types.js";
import { type ExecutionRecord, isTerminal, type StatusCounts } from "../core/types.js";
import type { TaskSummary, WorkerRecord } from "../store/operations.js";
import type { DeliverOutcome, DeliverRequest, ListQuery, ListResult, StepDetail } from "../store/store.js";
import type { Worker } from "../worker/worker.js";
import type { PruneOptions, RerunRequest, ScheduleRequest, ScheduleResult, TaskInfo, WaitSignal, ZartApi } from "./api.js";
import { deliveryAnswer } from "./delivery-answer.js";
import type { EngineOptions } from "./engine-options.js";
import { executionNotFound, isExecutionId } from "./execution-id.js";
import { pruneAge } from "./pruning.js";
import { type CheckedSchedule, checkedEvent, checkedListQuery } from "./requests.js";
import { type ResolvedEngineOptions, resolveEngineOptions } from "./resolve-options.js";
import { EngineRuntime } from "./runtime.js";
import type { EngineSchedules } from "./schedules/scheduling.js";
import { SyncedClock } from "./synced-clock.js";
import { cachingHops, runEndOr, type WatchDeps, watchTerminal } from "./terminal-watch.js";
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
import type { UnservedTask } from "./unserved-tasks.js";

/** Most executions one scheduleMany call takes (bounds one statement's size and the memory it holds). */
const MAX_BATCH = 10_000;

export class Engine implements ZartApi {
  readonly options: ResolvedEngineOptions;
  readonly worker: Worker | null;
  private readonly runtime: EngineRuntime;
  private readonly watchDeps: WatchDeps;

  private constructor(options: ResolvedEngineOptions) {
    this.options = options;
    this.runtime = new EngineRuntime(options, (id) => this.get(id));
    this.worker = this.runtime.worker;
    const { waiters, terminal, worker } = this.runtime;
    // Made once: every open watch holds it.
    this.watchDeps = { waiters, terminal, runOf: (id) => worker?.runOf(id) ?? null, get: (id) => this.get(id), api: this };
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const resolved = resolveEngineOptions(options);
    const clock = await SyncedClock.for(resolved.clock, resolved.store, resolved.logger);
    const engine = new Engine({ ...resolved, clock });
    await engine.runtime.begin();
    return engine;
  }

  /** Graceful stop: drain or release running work, answer long-polls. The caller closes the store. */
  stop(): Promise<void> {
    return this.runtime.stop();
  }

  /** Cron schedules: create, list, get, delete, pause, resume (docs/schedules.md). */
  get schedules(): EngineSchedules {
    return this.runtime.scheduling.schedules;
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
    const { admission, eager } = this.runtime;
    const checked = await admission.check(request);
    const input = admission.newExecution(checked, this.options.clock.now());
    const result = eager ? await eager.insert(input, request.eager) : await this.options.store.createExecution(input);
    if (!result.created && result.execution.task !== checked.task) {
      throw new ZartError(
        "execution_already_exists",
        `Idempotency key "${checked.idempotencyKey}" is already used by an execution of task "${result.execution.task}"`,
      );
    }
    if (result.created) this.runtime.scheduled(checked.task, result.execution.id);
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
        checked.push(await this.runtime.admission.check(request));
      } catch (error) {
        if (!(error instanceof ZartError)) throw error;
        throw new ZartError(error.code, `requests[${i}]: ${error.message}`);
      }
    }
    const now = this.options.clock.now();
    const results = await this.options.store.createExecutions(checked.map((c) => this.runtime.admission.newExecution(c, now)));
    for (const result of results) if (result.created) this.runtime.scheduled(result.execution.task, result.execution.id);
    return results;
  }

  async get(id: string): Promise<ExecutionRecord> {
    const { terminal } = this.runtime;
    const cached = terminal.get(id);
    if (cached) return cached;
    const execution = isExecutionId(id) ? await this.options.store.getExecution(id) : null;
    if (!execution) throw executionNotFound(id);
    // A terminal record never changes, so one read serves every later GET or wait of it from memory.
    if (isTerminal(execution.status)) terminal.remember(execution);
    return execution;
  }

  async list(query: ListQuery): Promise<ListResult> {
    return this.options.store.listExecutions(checkedListQuery(query));
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
    const { eager } = this.runtime;
    const result: DeliverOutcome = eager ? await eager.deliver(request) : await this.options.store.deliverEvent(request);
    return deliveryAnswer(id, eventName, result);
  }

  async waitForTerminal(id: string, timeoutMs: number, signal?: WaitSignal): Promise<ExecutionRecord> {
    // Register before reading, so a terminal notice between the read and the registration is not missed.
    const waiters = this.runtime.waiters;
    let waiter = waiters.wait(id, Math.max(0, timeoutMs));
    const onAbort = () => waiters.end(waiter);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      // This process runs it (e.g. an eager start): the run's end says more than a read would, and a run
      // that completes leaves its record in the terminal cache.
      const run = this.worker?.runOf(id) ?? null;
      if (run !== null) {
        await runEndOr(run, waiter.ended);
        await cachingHops(this.runtime.terminal, id, run);
      }
      await waiters.ready();
      let execution = await this.get(id);
      while (!isTerminal(execution.status) && timeoutMs > 0 && !signal?.aborted) {
        await waiter.ended;
        const left = signal?.aborted ? 0 : waiters.remaining(waiter);
        await cachingHops(this.runtime.terminal, id);
        execution = await this.get(id);
        if (isTerminal(execution.status) || left <= 0) return execution;
        // It ended and runs again (a retry right after a cancel): wait for the rest of the time, registered
        // before the next read so an end between the two is not missed.
        waiter = waiters.wait(id, left);
        await waiters.ready();
        execution = await this.get(id);
      }
      return execution;
    } finally {
      waiters.end(waiter);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  watchTerminal(id: string, timeoutMs: number, done: (execution: Promise<ExecutionRecord>) => void): () => void {
    return watchTerminal(this.watchDeps, id, timeoutMs, done);
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
    return this.runtime.unserved.list();
  }

  async tasks(): Promise<TaskInfo[]> {
    return [...this.options.tasks.values()].map((t) => ({ name: t.name, inputSchemaJson: t.input?.jsonSchemaText ?? null, local: true }));
  }

  openWaiters(): number {
    return this.runtime.waiters.size;
  }

  pendingInserts(): number {
    return this.options.store.pendingInserts();
  }

  steps(id: string): Promise<Timeline> {
    return this.runtime.operations.steps(id);
  }

  taskList(): Promise<TaskSummary[]> {
    return this.runtime.operations.taskList();
  }

  workers(): Promise<WorkerRecord[]> {
    return this.runtime.operations.workers();
  }

  retry(id: string): Promise<ExecutionRecord> {
    return this.runtime.operations.retry(id);
  }

  rerun(id: string, request: RerunRequest = {}): Promise<ScheduleResult> {
    return this.runtime.operations.rerun(id, request);
  }

  async prune(options: PruneOptions): Promise<number> {
    return this.runtime.pruning.prune(pruneAge(options?.olderThan));
  }

  /** Resolves once no background prune round of `retention` runs (tests on a ManualClock: advance, then await this). */
  pruneSettled(): Promise<void> {
    return this.runtime.pruning.settled();
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
