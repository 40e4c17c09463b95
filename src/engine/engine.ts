/**
 * The engine: what the HTTP server and library users call. It validates requests, talks to the store,
 * wakes long-poll waiters on terminal notices and (unless API-only) runs a {@link Worker}.
 *
 * ```ts
 * const store = await openStore("./zart.db");
 * const engine = await Engine.start({ store, tasks: [myTask] });
 * const { execution } = await engine.schedule({ task: "my-task", data: { n: 1 } });
 * const done = await engine.waitForTerminal(execution.id, 30_000);
 * await engine.stop();
 * await store.close();
 * ```
 */
import { ZartError } from "../core/errors.js";
import { encodeJson } from "../core/json.js";
import { checkJsonSchema } from "../core/schema.js";
import { type ExecutionRecord, isTerminal, type StatusCounts, type TaskRegistration } from "../core/types.js";
import type { DeliverOutcome, DeliverRequest, ListQuery, ListResult, Notice, StepDetail } from "../store/store.js";
import { GroupCommitter } from "../worker/group-committer.js";
import { heldDelivery, heldInsert } from "../worker/held-write.js";
import { Worker } from "../worker/worker.js";
import type { ScheduleRequest, ScheduleResult, TaskInfo, ZartApi } from "./api.js";
import type { EngineOptions } from "./engine-options.js";
import { isExecutionId, newExecutionId } from "./execution-id.js";
import { type ResolvedEngineOptions, resolveEngineOptions } from "./resolve-options.js";
import { Waiters } from "./waiters.js";

/** Registrations of tasks other workers serve, cached briefly so a POST does not cost a lookup each time. */
const REMOTE_TASK_TTL_MS = 5000;

/**
 * Terminal records this process produced or read, served from memory: a terminal execution never changes,
 * so a long-poll that wakes on completion (or a GET of a finished execution) needs no read. Measured on
 * Postgres: the read was ~0.3-0.5 ms of a ~2.3 ms W0 start→result path. Bounded in entries and in
 * output size so it cannot hold much memory.
 */
const TERMINAL_CACHE_ENTRIES = 2000;
const TERMINAL_CACHE_MAX_OUTPUT = 16 * 1024;
/** Most executions one scheduleMany call takes (bounds one statement's size and the memory it holds). */
const MAX_BATCH = 10_000;

export class Engine implements ZartApi {
  readonly options: ResolvedEngineOptions;
  readonly worker: Worker | null;
  private readonly waiters: Waiters;
  private readonly committer: GroupCommitter;
  private readonly remoteTasks = new Map<string, { registration: TaskRegistration; at: number }>();
  private readonly terminal = new Map<string, ExecutionRecord>();
  /** The tasks this process runs, for eager resume's claim. */
  private readonly localTasks: readonly string[];
  private unsubscribe: (() => void) | null = null;

  private constructor(options: ResolvedEngineOptions) {
    this.options = options;
    this.localTasks = [...options.tasks.keys()];
    const { store, clock, logger } = options;
    this.waiters = new Waiters(store, clock, logger, options.safetyPollMs);
    // Two flushes in flight: W1 at concurrency 10 on Postgres (fsync on, shared 2-core box) went from
    // ~946 to ~1,084 executions/s (3: ~1,113, at more transactions per execution). 500 per batch bounds
    // a transaction's size and lock time.
    this.committer = new GroupCommitter(store, clock, logger, {
      maxBatch: 500,
      maxInFlight: 2,
      retryForMs: options.worker?.leaseMs ?? 30_000,
    });
    this.worker = options.worker ? this.createWorker(options) : null;
    if (this.worker) this.committer.setClaimer(this.worker);
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(resolveEngineOptions(options));
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
        onFinished: (task, outcome, id) => metrics.finished(task, outcome, id),
        onTerminal: (execution) => this.rememberTerminal(execution),
        onStepFinished: (task, step, ms, ok) => metrics.stepFinished(task, step, ms, ok),
      },
    });
  }

  private async begin(): Promise<void> {
    const { store, tasks, clock, workerId } = this.options;
    if (this.options.migrate) await store.migrate();
    if (this.worker) {
      const registrations = [...tasks.values()].map((t) => ({ name: t.name, inputSchemaJson: t.input?.jsonSchemaText ?? null }));
      await store.registerTasks(workerId, registrations, clock.now());
    }
    this.unsubscribe = store.subscribe((notice) => this.onNotice(notice));
    this.worker?.start();
  }

  private onNotice(notice: Notice): void {
    if (notice.kind === "terminal") this.waiters.wake(notice.executionId);
    else if (notice.kind === "reconnected") void this.waiters.safetyCheck();
  }

  /** Graceful stop: drain or release running work, answer long-polls. The caller closes the store. */
  async stop(): Promise<void> {
    await this.worker?.stop();
    await this.committer.drain();
    this.waiters.wakeAll();
    this.waiters.stop();
    this.unsubscribe?.();
  }

  private rememberTerminal(execution: ExecutionRecord): void {
    if ((execution.outputJson?.length ?? 0) > TERMINAL_CACHE_MAX_OUTPUT) return;
    this.terminal.set(execution.id, execution);
    if (this.terminal.size > TERMINAL_CACHE_ENTRIES) this.terminal.delete(this.terminal.keys().next().value as string);
  }

  async schedule(request: ScheduleRequest): Promise<ScheduleResult> {
    const { task, dataJson, idempotencyKey } = await this.checkedRequest(request);
    const result = await this.insert(task, dataJson, idempotencyKey, request.eager);
    if (!result.created && result.execution.task !== task) {
      throw new ZartError(
        "execution_already_exists",
        `Idempotency key "${idempotencyKey}" is already used by an execution of task "${result.execution.task}"`,
      );
    }
    if (result.created) this.options.metrics.scheduled(task);
    return result;
  }

  /**
   * Schedules many executions in one store transaction (all or none), results in request order: one round
   * trip instead of one per execution. Every request is checked before anything is written; the first
   * invalid one throws (its code, its index in the message). Batched executions always queue (no eager
   * start). An idempotency key that is already held returns the holder with `created: false`, even when it
   * belongs to another task (a batch cannot fail after its commit): compare `execution.task` if that matters.
   * They share one `created_at`, so among themselves they are listed and claimed in id order.
   */
  async scheduleMany(requests: readonly ScheduleRequest[]): Promise<ScheduleResult[]> {
    if (!Array.isArray(requests) || requests.length > MAX_BATCH) {
      throw new ZartError("invalid_data", `scheduleMany takes an array of at most ${MAX_BATCH} requests`);
    }
    const checked: Array<{ task: string; dataJson: string; idempotencyKey: string | null }> = [];
    for (const [i, request] of requests.entries()) {
      try {
        checked.push(await this.checkedRequest(request));
      } catch (error) {
        if (!(error instanceof ZartError)) throw error;
        throw new ZartError(error.code, `requests[${i}]: ${error.message}`);
      }
    }
    const now = this.options.clock.now();
    const results = await this.options.store.createExecutions(checked.map((c) => ({ id: newExecutionId(now), ...c, now })));
    for (const result of results) if (result.created) this.options.metrics.scheduled(result.execution.task);
    return results;
  }

  /** Validates a schedule request and encodes its data once. Throws ZartError with the caller's mistake. */
  private async checkedRequest(request: ScheduleRequest): Promise<{ task: string; dataJson: string; idempotencyKey: string | null }> {
    const { task, data, idempotencyKey } = request;
    if (typeof task !== "string" || task.length === 0) throw new ZartError("invalid_data", "task must be a non-empty string");
    if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ZartError("invalid_data", "data must be a JSON object");
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== "string" || idempotencyKey.length < 1 || idempotencyKey.length > 255)) {
      throw new ZartError("invalid_data", "idempotency_key must be a string of 1 to 255 characters");
    }
    await this.validateInput(task, data);
    try {
      return { task, dataJson: encodeJson(data, "data", this.options.maxPayloadBytes), idempotencyKey: idempotencyKey ?? null };
    } catch (error) {
      throw new ZartError(
        String((error as { code?: string }).code) === "payload_too_large" ? "payload_too_large" : "invalid_data",
        (error as Error).message,
      );
    }
  }

  /**
   * Inserts the execution; eagerly (run here, born claimed by this worker) when asked to, or by default
   * (worker.eagerStart) when no older claimable work is waiting. An eager run starts at once and its
   * insert is held for its first write (see worker/held-write.ts): a run that ends without a step is
   * inserted finished, one commit in all.
   */
  private async insert(task: string, dataJson: string, idempotencyKey: string | null, eager: boolean | undefined): Promise<ScheduleResult> {
    const { store, clock } = this.options;
    const wanted = eager ?? this.options.worker?.eagerStart ?? false;
    const worker = wanted && this.options.tasks.has(task) && this.worker?.reserveSlot(eager === undefined) ? this.worker : null;
    const now = clock.now();
    const input = { id: newExecutionId(now), task, dataJson, idempotencyKey, now };
    if (!worker) return store.createExecution(input);
    const { write, run } = heldInsert(store, { ...input, claimFor: this.claimFor() });
    worker.adoptHeld(write, run);
    return write.result;
  }

  /** How an eager start or resume claims for this process's worker. */
  private claimFor(): { workerId: string; leaseMs: number } {
    return { workerId: this.options.workerId, leaseMs: this.options.worker?.leaseMs ?? 30_000 };
  }

  private async validateInput(task: string, data: unknown): Promise<void> {
    const local = this.options.tasks.get(task);
    if (local) {
      const result = local.input ? await local.input.validate(data, "data") : ({ ok: true } as const);
      if (!result.ok) throw new ZartError("invalid_data", result.message);
      return;
    }
    const remote = await this.remoteTask(task);
    if (!remote) throw new ZartError("task_not_registered", `No task named "${task}" is registered`);
    if (remote.inputSchemaJson) {
      const message = checkJsonSchema(remote.inputSchemaJson, data, "data");
      if (message) throw new ZartError("invalid_data", message);
    }
  }

  private async remoteTask(name: string): Promise<TaskRegistration | null> {
    const now = this.options.clock.now();
    const cached = this.remoteTasks.get(name);
    if (cached && now - cached.at < REMOTE_TASK_TTL_MS) return cached.registration;
    const registration = await this.options.store.getTask(name);
    if (registration) this.remoteTasks.set(name, { registration, at: now });
    return registration;
  }

  async get(id: string): Promise<ExecutionRecord> {
    const cached = this.terminal.get(id);
    if (cached) return cached;
    const execution = isExecutionId(id) ? await this.options.store.getExecution(id) : null;
    if (!execution) throw notFound(id);
    // A terminal record never changes (nothing deletes executions), so one read serves every later GET
    // or wait of it from memory, like the records of this process's own runs.
    if (isTerminal(execution.status)) this.rememberTerminal(execution);
    return execution;
  }

  list(query: ListQuery): Promise<ListResult> {
    return this.options.store.listExecutions(query);
  }

  async cancel(id: string): Promise<ExecutionRecord> {
    if (!isExecutionId(id)) throw notFound(id);
    const { outcome, execution } = await this.options.store.cancelExecution(id, this.options.clock.now());
    if (outcome === "not_found" || !execution) throw notFound(id);
    if (outcome === "not_cancellable") {
      throw new ZartError("execution_not_cancellable", `Execution ${id} is ${execution.status} and cannot be cancelled`);
    }
    return execution;
  }

  async deliverEvent(id: string, eventName: string, payloadJson: string): Promise<void> {
    if (!isExecutionId(id)) throw notFound(id);
    if (Buffer.byteLength(payloadJson) > this.options.maxPayloadBytes) {
      throw new ZartError("payload_too_large", `Event payload is over the ${this.options.maxPayloadBytes}-byte limit`);
    }
    // Eager resume: with a free slot (and no older work waiting), this worker takes the execution in the
    // delivery itself when it runs the task, saving the notice hop and the claim round trip.
    const worker = this.worker?.reserveSlot(true) ? this.worker : null;
    const request: DeliverRequest = {
      executionId: id,
      eventName,
      payloadJson,
      now: this.options.clock.now(),
      validate: (schemaText, payload) => checkJsonSchema(schemaText, JSON.parse(payload), "payload"),
    };
    const result = worker ? await this.deliverToWorker(worker, request) : await this.options.store.deliverEvent(request);
    if (result.outcome === "not_found") throw notFound(id);
    if (result.outcome === "not_waiting") {
      throw new ZartError("not_waiting_for_event", `Execution ${id} is not waiting for event "${eventName}"`);
    }
    if (result.outcome === "invalid") throw new ZartError("invalid_data", result.message);
  }

  /**
   * A delivery that this worker's reserved slot resumes. When this process parked the execution (and the
   * wait has no schema to check first), the run resumes before the delivery is written, from the steps it
   * parked with, and a run that then ends without a step is written with the delivery in one transaction
   * (see worker/held-write.ts). Measured in-process on PostgreSQL (bench/src/probe-latency.ts w3, p50 of
   * 200 each, several runs): delivery→result 3.35-3.45 ms (delivery, then completion) -> 2.26-2.64 ms.
   */
  private async deliverToWorker(worker: Worker, request: DeliverRequest): Promise<DeliverOutcome> {
    const claimFor = { ...this.claimFor(), tasks: this.localTasks };
    const parked = worker.takeParked(request.executionId, request.eventName);
    if (parked) {
      const { write, run } = heldDelivery(this.options.store, { ...request, claimFor }, parked);
      worker.adoptHeld(write, run);
      const result = await write.result;
      // Changed since it parked here (claimed and parked again elsewhere): run it from the stored steps.
      if (result.outcome === "delivered" && result.claimed && result.claimed.execution.leaseToken !== run.execution.leaseToken) {
        await worker.runOf(request.executionId);
        worker.adoptClaimed(result.claimed);
      }
      return result;
    }
    let result: DeliverOutcome;
    try {
      result = await this.options.store.deliverEvent({ ...request, claimFor });
    } catch (error) {
      worker.releaseSlot();
      throw error;
    }
    if (result.outcome === "delivered" && result.claimed) worker.adopt(result.claimed);
    else worker.releaseSlot();
    return result;
  }

  async waitForTerminal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<ExecutionRecord> {
    // Register before reading, so a terminal notice between the read and the registration is not missed.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const waiting = this.waiters.wait(id, Math.max(0, timeoutMs), stop.signal);
    try {
      // This process runs it (e.g. an eager start): the run's end says more than a read would. A run that
      // completes leaves its record in the terminal cache, so no read at all is needed (in-process W0
      // latency on PostgreSQL: a read of ~0.5 ms, off the critical path but sharing its two cores). A run
      // that parks ends too, and then the usual read and wait follow.
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
   * memory instead of a store read (~0.2-0.4 ms on PostgreSQL). With the run at hand, its end is what to
   * wait for: it comes within those hops, while a turn of the event loop can take longer than the read
   * (W3 on PostgreSQL, bench/src/probe-latency.ts: 0.4 ms from the notice to the record via setImmediate).
   * A run cancelled elsewhere may not end soon, so the turn still bounds the wait.
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

  async tasks(): Promise<TaskInfo[]> {
    return [...this.options.tasks.values()].map((t) => ({ name: t.name, inputSchemaJson: t.input?.jsonSchemaText ?? null, local: true }));
  }

  openWaiters(): number {
    return this.waiters.size;
  }
}

function notFound(id: string): ZartError {
  return new ZartError("execution_not_found", `No execution found with ID ${id}`);
}
