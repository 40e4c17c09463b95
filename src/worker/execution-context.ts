/**
 * The `ctx` a task's `run` receives, and the replay state behind it. Recorded results return at once;
 * the first unrecorded step runs for real, and its record commits (through the group committer) before
 * the next step's function starts, so a recorded step never runs again and no step ever runs on the
 * result of one that is not recorded.
 *
 * A finished step's record is held until the end of the event-loop turn it finished in, and the
 * workflow continues meanwhile: the code between two steps is deterministic (it replays), so nothing it
 * does before the next step needs the record durable. If the execution's next write comes in that turn -
 * the next step's start, a park, or its final write - the record rides along in the same checkpoint.
 * So a workflow ending in a step commits that step and its completion in one transaction (W1: four
 * commits instead of five); otherwise the record commits on its own at the end of the turn, as before.
 * A crash before that commit re-runs the step, exactly as a crash before its own commit always did.
 *
 * Sleeps, event waits and long backoffs "suspend": their promise never settles, the runner waits for
 * the other in-flight steps to record, commits one `waiting` checkpoint and drops the run. Using a
 * promise that never settles (instead of a thrown control-flow error) means user try/catch blocks
 * cannot swallow a suspension.
 */
import type { Clock } from "../core/clock.js";
import type { Duration } from "../core/duration.js";
import { toMs } from "../core/duration.js";
import { EventTimeoutError, ExecutionAbortedError, StepFailedError, toError, WorkflowDefinitionError } from "../core/errors.js";
import { encodeJson } from "../core/json.js";
import type { Logger } from "../core/logger.js";
import { backoffDelay, resolveRetryPolicy, shouldRetry } from "../core/retry-policy.js";
import { compileSchema } from "../core/schema.js";
import type { StepContext, StepOptions, WaitForEventOptions, WorkflowContext } from "../core/task.js";
import type { AttemptRecord, ErrorInfo, ExecutionRecord, StepRecord } from "../core/types.js";
import type { Checkpoint, ExecutionPatch, Fence } from "../store/store.js";
import { ExecutionLogger } from "./execution-logger.js";
import { runAttempt } from "./run-attempt.js";

export interface ContextDeps {
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  inPlaceBackoffMaxMs: number;
  random: () => number;
  /** Commits a checkpoint through the group committer; false when fenced out. */
  commit(checkpoint: Checkpoint): Promise<boolean>;
  commitProgress(checkpoint: Checkpoint): void;
  /**
   * A run started before its first write (eager start or resume, see held-write.ts): sends that write if it
   * is still held; true once it made the run ours, false when it never will. Only the workflow's
   * deterministic code runs before it.
   */
  whenStored?(): Promise<boolean>;
  onStepFinished?(task: string, step: string, ms: number, ok: boolean): void;
}

/** A step row to write when the execution parks, and what it waits for. */
export interface Suspension {
  record: StepRecord;
  attempts: AttemptRecord[];
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** What tracked work resolves to when it parked the execution (so `settle()` does not wait on it). */
const PARKED: unique symbol = Symbol("parked");
type Parked = typeof PARKED;

export class ExecutionContext implements WorkflowContext {
  readonly executionId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly log: ExecutionLogger;
  readonly controller = new AbortController();
  /** Steps, sleeps and waits requested to park the execution (parallel branches may add several). */
  readonly suspensions: Suspension[] = [];
  /** A definition error (duplicate name…) that fails the execution even if the workflow caught it. */
  fatal: Error | null = null;
  stepsCompleted: number;

  private readonly recorded: Map<string, StepRecord>;
  private readonly usedNames = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Step records finished but not yet submitted (see the header), with their failed attempts. */
  private pending: { steps: StepRecord[]; attempts: AttemptRecord[] } = { steps: [], attempts: [] };
  private flushScheduled = false;
  /** The commit of the latest submitted records: the next step starts only after it (writes apply in order). */
  private lastFlush: Promise<void> | null = null;
  private readonly leaseToken: number;
  private onSuspend: (() => void) | null = null;

  constructor(
    execution: ExecutionRecord,
    steps: readonly StepRecord[],
    private readonly deps: ContextDeps,
  ) {
    this.executionId = execution.id;
    this.taskName = execution.task;
    this.attempt = execution.attempt;
    this.leaseToken = execution.leaseToken;
    this.stepsCompleted = execution.stepsCompleted;
    this.recorded = new Map(steps.map((s) => [s.name, s]));
    this.log = new ExecutionLogger(deps.logger.child({ executionId: execution.id, task: execution.task }));
  }

  get fence(): Fence {
    return { executionId: this.executionId, leaseToken: this.leaseToken };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Resolves when the first suspension is requested. */
  suspended(): Promise<void> {
    return new Promise((resolve) => {
      if (this.suspensions.length > 0) resolve();
      else this.onSuspend = resolve;
    });
  }

  /** Waits until no step of this execution is running or recording. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  abort(reason: ExecutionAbortedError["reason"]): void {
    if (!this.controller.signal.aborted) this.controller.abort(new ExecutionAbortedError(reason));
  }

  checkpoint(execution: ExecutionPatch, steps?: StepRecord[], attempts?: AttemptRecord[]): Checkpoint {
    return { fence: this.fence, now: this.deps.clock.now(), steps, attempts, execution };
  }

  /**
   * The run's last write (completed, failed, parked, requeued), carrying the step records still held:
   * they commit in the same transaction, in order before the patch.
   */
  finalCheckpoint(execution: ExecutionPatch, steps: StepRecord[] = [], attempts: AttemptRecord[] = []): Checkpoint {
    const held = this.takePending();
    return this.checkpoint(execution, [...held.steps, ...steps], [...held.attempts, ...attempts]);
  }

  /** The execution's step rows once `written` (the last write's records) committed after all before it. */
  storedSteps(written: readonly StepRecord[]): StepRecord[] {
    const rows = new Map(this.recorded);
    for (const step of written) rows.set(step.name, step);
    return [...rows.values()];
  }

  step<T>(name: string, fn: (step: StepContext) => T | Promise<T>, options?: StepOptions): Promise<T> {
    const gate = this.enter(name);
    if (gate !== null) return gate as Promise<T>;
    const record = this.recorded.get(name);
    if (record?.state === "completed") return Promise.resolve(JSON.parse(record.resultJson ?? "null") as T);
    if (record?.state === "failed") return Promise.reject(failureFromRecord(record));
    return this.track(this.executeStep(name, fn, options ?? {}, record));
  }

  sleep(name: string, duration: Duration): Promise<void> {
    return this.sleepUntilTime(name, () => this.deps.clock.now() + toMs(duration));
  }

  sleepUntil(name: string, at: Date | number): Promise<void> {
    const time = typeof at === "number" ? at : at.getTime();
    if (!Number.isFinite(time))
      return Promise.reject(new WorkflowDefinitionError("invalid_argument", `sleepUntil("${name}") needs a valid date`));
    return this.sleepUntilTime(name, () => time);
  }

  waitForEvent<T = unknown>(name: string, options: WaitForEventOptions = {}): Promise<T> {
    const gate = this.enter(name);
    if (gate !== null) return gate as Promise<T>;
    const now = this.deps.clock.now();
    const record = this.recorded.get(name);
    if (record?.state === "completed") return Promise.resolve(JSON.parse(record.resultJson ?? "null") as T);
    if (record?.state === "failed") return Promise.reject(new EventTimeoutError(name, record.error?.message));
    if (record && record.kind === "event") {
      if (record.wakeAt !== null && now >= record.wakeAt) return this.track(this.recordEventTimeout(record));
      return this.suspend({ record, attempts: [] });
    }
    const schemaJson = options.schema === undefined ? null : (compileSchema(options.schema).jsonSchemaText ?? null);
    const wakeAt = options.timeout === undefined ? null : now + toMs(options.timeout);
    return this.suspend({ record: this.newRecord(name, "event", "waiting", { wakeAt, schemaJson }), attempts: [] });
  }

  /** Name bookkeeping and the "may a step start now" gate; returns a promise to hand back instead. */
  private enter(name: string): Promise<never> | null {
    if (typeof name !== "string" || name.length === 0 || name.length > 255) {
      return this.fail(new WorkflowDefinitionError("invalid_step_name", "Step names must be 1-255 characters"));
    }
    if (this.usedNames.has(name)) {
      return this.fail(
        new WorkflowDefinitionError(
          "duplicate_step_name",
          `Step name "${name}" is used twice in this execution; names must be unique (use e.g. \`charge-\${i}\` in loops)`,
        ),
      );
    }
    this.usedNames.add(name);
    if (this.signal.aborted) return Promise.reject(this.signal.reason as Error);
    // Once the execution is parking, nothing new starts: the run is about to be dropped.
    if (this.suspensions.length > 0) return never();
    return null;
  }

  private fail(error: WorkflowDefinitionError): Promise<never> {
    this.fatal ??= error;
    return Promise.reject(error);
  }

  private track<T>(work: Promise<T | Parked>): Promise<T> {
    this.inFlight.add(work);
    const remove = () => this.inFlight.delete(work);
    work.then(remove, remove);
    return work.then((value) => (value === PARKED ? never<T>() : value));
  }

  private park(suspension: Suspension): Parked {
    this.suspensions.push(suspension);
    this.onSuspend?.();
    this.onSuspend = null;
    return PARKED;
  }

  private suspend<T>(suspension: Suspension): Promise<T> {
    this.park(suspension);
    return never();
  }

  private sleepUntilTime(name: string, computeWake: () => number): Promise<void> {
    const gate = this.enter(name);
    if (gate !== null) return gate;
    const record = this.recorded.get(name);
    if (record?.state === "completed") return Promise.resolve();
    // The wake time is fixed the first time the sleep is reached; replays reuse it.
    const wakeAt = record?.wakeAt ?? computeWake();
    if (this.deps.clock.now() >= wakeAt) {
      const done = this.newRecord(name, "sleep", "completed", { wakeAt, startedAt: record?.startedAt });
      return this.track(this.record(done, [], true).then(() => undefined));
    }
    return this.suspend({ record: record ?? this.newRecord(name, "sleep", "waiting", { wakeAt }), attempts: [] });
  }

  private async recordEventTimeout(record: StepRecord): Promise<never> {
    const error = new EventTimeoutError(record.name);
    const info: ErrorInfo = { message: error.message, step: record.name, code: error.code, name: error.name };
    await this.record({ ...record, state: "failed", error: info, completedAt: this.deps.clock.now() }, [], true);
    throw error;
  }

  private async executeStep<T>(
    name: string,
    fn: (step: StepContext) => T | Promise<T>,
    options: StepOptions,
    previous?: StepRecord,
  ): Promise<T | Parked> {
    const policy = resolveRetryPolicy(options.retry);
    const timeoutMs = options.timeout === undefined ? null : toMs(options.timeout);
    const startedAt = previous?.startedAt ?? this.deps.clock.now();
    const failures: AttemptRecord[] = [];
    let attempt = previous?.attempts ?? 0;
    await this.waitOutRecordedBackoff(previous);
    await this.recordedSoFar();
    this.deps.commitProgress(this.checkpoint({ status: "running", currentStep: name, stepsCompleted: this.stepsCompleted }));
    const log = this.log.forStep(name);
    for (;;) {
      attempt += 1;
      const attemptStart = this.deps.clock.now();
      let error: Error;
      try {
        const leave = this.log.enter(log);
        const value = await runAttempt((signal) => fn({ attempt, signal, log }), {
          parent: this.signal,
          clock: this.deps.clock,
          timeoutMs,
          step: name,
        }).finally(leave);
        const resultJson = encodeJson(value, `Result of step "${name}"`, this.deps.maxPayloadBytes);
        const done = this.newRecord(name, "step", "completed", { resultJson, attempts: attempt, startedAt });
        await this.record(done, failures, true);
        this.deps.onStepFinished?.(this.taskName, name, this.deps.clock.now() - attemptStart, true);
        return value;
      } catch (thrown) {
        if (this.signal.aborted) throw this.signal.reason;
        error = toError(thrown);
      }
      const info = errorInfo(error, name);
      failures.push({
        executionId: this.executionId,
        step: name,
        attempt,
        startedAt: attemptStart,
        endedAt: this.deps.clock.now(),
        error: info,
      });
      this.deps.onStepFinished?.(this.taskName, name, this.deps.clock.now() - attemptStart, false);
      if (!shouldRetry(policy, attempt, error)) {
        const failed = this.newRecord(name, "step", "failed", { error: info, attempts: attempt, startedAt });
        await this.record(failed, failures, true);
        throw new StepFailedError(name, `Step "${name}" failed after ${attempt} attempt(s): ${error.message}`, attempt);
      }
      const delay = backoffDelay(policy, attempt, this.deps.random);
      log.warn({ attempt, delayMs: delay, err: error.message }, "step attempt failed; retrying");
      if (delay > this.deps.inPlaceBackoffMaxMs) {
        const wakeAt = this.deps.clock.now() + delay;
        return this.park({
          record: this.newRecord(name, "step", "retrying", { attempts: attempt, wakeAt, startedAt }),
          attempts: failures,
        });
      }
      await this.deps.clock.sleep(delay, this.signal).catch(() => {
        throw this.signal.reason;
      });
    }
  }

  /** A step parked in `retrying` resumes only when its backoff is over (an early wake waits the rest). */
  private async waitOutRecordedBackoff(previous?: StepRecord): Promise<void> {
    if (previous?.state !== "retrying" || previous.wakeAt === null) return;
    const remaining = previous.wakeAt - this.deps.clock.now();
    if (remaining > 0) await this.deps.clock.sleep(remaining, this.signal);
  }

  /**
   * Holds a step result for the next write (see the header); it is submitted at the end of this
   * event-loop turn unless a write of this execution takes it first.
   */
  private async record(record: StepRecord, attempts: AttemptRecord[], counts: boolean): Promise<void> {
    if (this.signal.aborted) throw this.signal.reason;
    // Counted when held: parallel steps are held in order, so every write carries a count at least as
    // high as the records in it, and the group committer applies one execution's writes in order.
    if (counts) this.stepsCompleted += 1;
    this.pending.steps.push(record);
    this.pending.attempts.push(...attempts);
    this.recorded.set(record.name, record);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.submitPending();
      });
    }
  }

  private takePending(): { steps: StepRecord[]; attempts: AttemptRecord[] } {
    const held = this.pending;
    this.pending = { steps: [], attempts: [] };
    return held;
  }

  /** Submits the held records (if any). A write that is fenced out, or cannot commit, aborts the run. */
  private submitPending(): void {
    if (this.pending.steps.length === 0 || this.signal.aborted) return;
    const { steps, attempts } = this.takePending();
    const checkpoint = this.checkpoint({ status: "running", currentStep: null, stepsCompleted: this.stepsCompleted }, steps, attempts);
    this.lastFlush = this.deps.commit(checkpoint).then(
      (applied) => {
        if (!applied) this.abort("lease_lost");
      },
      (error: unknown) => {
        // The store stayed unavailable through the committer's retries: the lease will lapse and another
        // worker resume from the last recorded step, so this run must not start anything more.
        this.log.error({ err: error }, "step record could not be written");
        this.abort("lease_lost");
      },
    );
  }

  /** Resolves once every step record so far has committed; throws when the run was aborted meanwhile. */
  private async recordedSoFar(): Promise<void> {
    if (this.deps.whenStored && !(await this.deps.whenStored())) this.abort("lease_lost");
    this.submitPending();
    await this.lastFlush;
    if (this.signal.aborted) throw this.signal.reason;
  }

  private newRecord(name: string, kind: StepRecord["kind"], state: StepRecord["state"], fields: Partial<StepRecord>): StepRecord {
    const now = this.deps.clock.now();
    return {
      executionId: this.executionId,
      name,
      kind,
      state,
      resultJson: fields.resultJson ?? null,
      error: fields.error ?? null,
      attempts: fields.attempts ?? 0,
      wakeAt: fields.wakeAt ?? null,
      schemaJson: fields.schemaJson ?? null,
      startedAt: fields.startedAt ?? now,
      completedAt: state === "completed" || state === "failed" ? now : null,
    };
  }
}

export function errorInfo(error: Error, step: string | null): ErrorInfo {
  const code = (error as { code?: unknown }).code;
  return { message: error.message, step, name: error.name, ...(typeof code === "string" ? { code } : {}) };
}

function failureFromRecord(record: StepRecord): Error {
  if (record.kind === "event") return new EventTimeoutError(record.name, record.error?.message);
  return new StepFailedError(
    record.name,
    `Step "${record.name}" failed after ${record.attempts} attempt(s): ${record.error?.message ?? "unknown error"}`,
    record.attempts,
  );
}
