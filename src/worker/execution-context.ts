/**
 * The `ctx` a task's `run` receives. Every call is durable: a recorded outcome is returned (or thrown) at
 * once on replay; the first unrecorded step runs for real once every record before it is durable
 * (record-writer.ts); waits (sleeps, event waits, child waits, long step backoffs) stay open and the run
 * parks when nothing else can progress (run-activity.ts).
 */
import { type Duration, storableTime } from "../core/duration.js";
import { EventTimeoutError, type ExecutionAbortedError, WorkflowDefinitionError } from "../core/errors.js";
import { decodeValue } from "../core/json.js";
import { lazyChild } from "../core/logger.js";
import { type CompiledSchema, compileSchema, type SchemaInput } from "../core/schema.js";
import type { ChildOptions, StepContext, StepOptions, TaskDefinition, WaitForEventOptions, WorkflowContext } from "../core/task.js";
import { type ErrorInfo, FINAL_STEP_STATES, type StepKind, type StepRecord } from "../core/types.js";
import type { BufferedEvent, ClaimedExecution } from "../store/store.js";
import { CheckpointRejectedError } from "../store/store-errors.js";
import { firstAccepted } from "./buffered-events.js";
import { type Answer, isOpen, promised } from "./call-answer.js";
import { startChild } from "./child-start.js";
import type { ContextDeps } from "./context-deps.js";
import { ExecutionLogger } from "./execution-logger.js";
import { RecordWriter } from "./record-writer.js";
import {
  checkWaitOptions,
  childFailure,
  definitionArgument,
  durationMs,
  isChildStart,
  startedNotRun,
  stepFailure,
  stepRetryPolicy,
} from "./recorded-outcomes.js";
import { ReplayRecords } from "./replay-records.js";
import { RunAbort } from "./run-abort.js";
import { type OpenWait, RunActivity } from "./run-activity.js";
import { SettleOrder } from "./settle-order.js";
import { newStepRecord } from "./step-records.js";
import { runStep, type StepRunDeps } from "./step-runner.js";
import type { RunTrace } from "./tracing.js";

const NO_SCHEMAS: ReadonlyMap<string, CompiledSchema> = new Map();

export class ExecutionContext implements WorkflowContext {
  readonly executionId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly log: ExecutionLogger;
  /** The run's abort; the runner races the run against `stop.whenAborted(…)`. */
  readonly stop = new RunAbort();
  readonly activity = new RunActivity();
  private readonly order: SettleOrder;
  readonly records: ReplayRecords;
  readonly writer: RecordWriter;
  /** A definition error (duplicate name, changed code…) that fails the execution even if the workflow caught it. */
  fatal: Error | null = null;
  /** The store refused one of this run's writes for good: the run stops and its execution fails with it. */
  rejected: CheckpointRejectedError | null = null;
  private readonly buffered: BufferedEvent[];
  /** See ClaimedExecution.recovered: each step's start is written durably before it runs. */
  private readonly recovered: boolean;
  private stepRunDeps: StepRunDeps | undefined;

  constructor(
    claimed: ClaimedExecution,
    private readonly deps: ContextDeps,
    /** The task's `eventSchemas`: a wait without a `schema` of its own checks its payload against these. */
    private readonly eventSchemas: ReadonlyMap<string, CompiledSchema> = NO_SCHEMAS,
    /** The run's span, under which step attempts get theirs. */
    private readonly trace: RunTrace | null = null,
  ) {
    const { execution, steps, events } = claimed;
    this.recovered = claimed.recovered;
    this.executionId = execution.id;
    this.taskName = execution.task;
    this.attempt = execution.attempt;
    this.order = new SettleOrder(execution.leaseToken, () => deps.clock.now());
    deps.replaying?.(() => this.order.pending);
    this.log = new ExecutionLogger(lazyChild(deps.logger, { executionId: execution.id, task: execution.task }));
    this.records = new ReplayRecords(steps);
    this.buffered = [...events];
    this.writer = new RecordWriter(execution, this.records, deps, (error) => {
      if (error instanceof CheckpointRejectedError) this.rejected ??= error;
      else if (error !== undefined) this.log.error({ err: error }, "step record could not be written");
      this.abort("lease_lost");
    });
  }

  get signal(): AbortSignal {
    return this.stop.signal;
  }

  abort(reason: ExecutionAbortedError["reason"]): void {
    this.stop.abort(reason);
  }

  step<T>(name: string, fn: (step: StepContext) => T | Promise<T>, options: StepOptions = {}): Promise<T> {
    return this.call<T>(name, "step", (record, seq) => {
      if (record?.state === "completed") return decodeValue(record.resultJson) as T;
      if (record?.state === "failed") throw stepFailure(record);
      if (record?.state === "retrying" && record.wakeAt !== null && this.now() < record.wakeAt) return { open: { record, attempts: [] } };
      return this.runForReal(name, seq, fn, options, record);
    });
  }

  sleep(name: string, duration: Duration): Promise<void> {
    return this.sleepUntilTime(name, () => this.now() + durationMs(duration, `sleep("${name}")`));
  }

  sleepUntil(name: string, at: Date | number): Promise<void> {
    return this.sleepUntilTime(name, () => {
      const time = typeof at === "number" ? at : at instanceof Date ? at.getTime() : Number.NaN;
      if (storableTime(time) === null) throw new WorkflowDefinitionError("invalid_argument", `sleepUntil("${name}") needs a valid date`);
      return time;
    });
  }

  waitForEvent<T = unknown>(name: string, options: WaitForEventOptions = {}): Promise<T> {
    return this.call<T>(name, "event", (record, seq) => {
      if (record?.state === "completed") return decodeValue(record.resultJson) as T;
      if (record?.state === "failed") throw new EventTimeoutError(name, record.error?.message);
      checkWaitOptions(name, options);
      // A wait recorded open may still find its event among the buffered ones: one sent while the run that
      // opened it was still going (before the park stored the wait) was buffered, and woke this run.
      const opened = record?.state === "waiting" ? record : undefined;
      if (opened && opened.wakeAt !== null && this.now() >= opened.wakeAt) return this.timeOut(opened);
      const schema =
        options.schema === undefined
          ? (this.eventSchemas.get(name) ?? null)
          : definitionArgument(`waitForEvent("${name}") schema`, () => compileSchema(options.schema as SchemaInput));
      const open = (): { open: OpenWait } => {
        if (opened) return { open: { record: opened, attempts: [] } };
        const wakeAt = options.timeout === undefined ? null : this.now() + durationMs(options.timeout, `waitForEvent("${name}") timeout`);
        const schemaJson = schema?.jsonSchemaText ?? null;
        return { open: { record: this.newRecord(name, "event", "waiting", seq, { wakeAt, schemaJson }), attempts: [] } };
      };
      const take = (event: BufferedEvent): T => {
        this.buffered.splice(this.buffered.indexOf(event), 1);
        const since = opened ? { startedAt: opened.startedAt, wakeAt: opened.wakeAt, schemaJson: opened.schemaJson } : {};
        this.writer.hold(this.newRecord(name, "event", "completed", seq, { resultJson: event.payloadJson, ...since }));
        this.writer.holdConsumed(event.id);
        return decodeValue(event.payloadJson) as T;
      };
      const stored = this.buffered.filter((e) => e.name === name);
      if (stored.length === 0) return open();
      if (schema === null) return take(stored[0] as BufferedEvent);
      return firstAccepted(name, stored, schema, this.log).then((event) => (event ? take(event) : open()));
    });
  }

  startChild(name: string, task: string | TaskDefinition, data: unknown, options: ChildOptions = {}): Promise<string> {
    return this.call<string>(name, "child", async (record, seq) => {
      if (record && record.state !== "closed" && record.childId !== null) return record.childId;
      // A start the checks refused (no child id) replays as refused, even if a deploy since would accept it.
      if (record?.state === "failed") throw childFailure(record);
      return (await startChild(this, (request) => this.deps.prepareChild(request), name, seq, { task, data, options }, false)) as string;
    });
  }

  runChild<T = unknown>(name: string, task: string | TaskDefinition, data: unknown, options: ChildOptions = {}): Promise<T> {
    return this.call<T>(name, "child", async (record, seq) => {
      if (record?.state === "completed" && isChildStart(record)) throw startedNotRun(name);
      if (record?.state === "completed") return decodeValue(record.resultJson) as T;
      if (record?.state === "failed") throw childFailure(record);
      if (record?.state === "waiting") return { open: { record, attempts: [] } };
      return (await startChild(this, (request) => this.deps.prepareChild(request), name, seq, { task, data, options }, true)) as {
        open: OpenWait;
      };
    });
  }

  /**
   * The gate of every call: the name is reached (checked), then `answer` decides from the record. Work
   * that takes time is tracked, so the run does not park under it; a wait is opened once answered. A
   * final outcome settles in the order replays reproduce (settle-order.ts).
   */
  private call<T>(
    name: string,
    kind: StepKind,
    answer: (record: StepRecord | undefined, seq: number) => Answer<T> | Promise<Answer<T>>,
  ): Promise<T> {
    // A definition error this run met fails the execution even if the workflow caught it: nothing more runs
    // on a replay that cannot be trusted (a step now would make side effects for an execution that fails).
    if (this.fatal !== null) return Promise.reject(this.fatal);
    let reached: ReturnType<ReplayRecords["reach"]>;
    try {
      reached = this.records.reach(name, kind);
    } catch (error) {
      this.fatal ??= error as Error;
      return Promise.reject(error);
    }
    if (this.stop.reason !== null) return Promise.reject(this.stop.reason);
    const record = reached.record?.state === "closed" ? undefined : reached.record;
    const recorded = record !== undefined && FINAL_STEP_STATES.has(record.state);
    let answered: Answer<T> | Promise<Answer<T>>;
    try {
      answered = answer(record, reached.seq);
    } catch (error) {
      this.failsRun(error);
      return promised(() => this.settled<T>(name, { ok: false, error }, false));
    }
    if (!(answered instanceof Promise)) {
      const value = answered;
      return isOpen(value) ? this.activity.open<T>(value.open) : promised(() => this.settled<T>(name, { ok: true, value }, false));
    }
    return this.activity.track(answered).then(
      (a) => (isOpen(a) ? this.activity.open<T>(a.open) : this.settled<T>(name, { ok: true, value: a }, !recorded)),
      (error: unknown) => {
        this.failsRun(error);
        return this.settled<T>(name, { ok: false, error }, !recorded);
      },
    );
  }

  /** A definition error (a bad argument, a value no store can hold) fails the run even when its code catches it. */
  private failsRun(error: unknown): void {
    if (error instanceof WorkflowDefinitionError) this.fatal ??= error;
  }

  /** Settles a call's outcome in order when its record is final; other outcomes (errors without a record) at once. */
  private settled<T>(name: string, outcome: { ok: true; value: T } | { ok: false; error: unknown }, eager: boolean): T | Promise<T> {
    const record = this.records.get(name);
    if (record === undefined || !FINAL_STEP_STATES.has(record.state)) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    const place = { run: record.settledIn ?? 0, time: record.completedAt ?? 0, seq: record.seq };
    const settled = this.order.settle(place, outcome, eager);
    return settled instanceof Promise ? this.activity.track(settled) : settled;
  }

  private async runForReal<T>(
    name: string,
    seq: number,
    fn: (step: StepContext) => T | Promise<T>,
    options: StepOptions,
    previous: StepRecord | undefined,
  ): Promise<Answer<T>> {
    const policy = stepRetryPolicy(name, options);
    const timeoutMs = options.timeout === undefined ? null : durationMs(options.timeout, `step("${name}") timeout`);
    await this.writer.barrier(this.stop);
    if (this.fatal !== null) throw this.fatal;
    if (this.recovered) await this.writer.progressDurably(name, this.stop);
    else this.writer.progress(name);
    const outcome = await runStep<T>(this.stepDeps(), { name, seq, fn, policy, timeoutMs, previous });
    return outcome.kind === "value" ? outcome.value : { open: outcome.wait };
  }

  /** What a step run needs from this context, made by the first step run for real (a run may make none). */
  private stepDeps(): StepRunDeps {
    this.stepRunDeps ??= {
      clock: this.deps.clock,
      settle: this.order,
      log: this.log,
      stop: this.stop,
      executionId: this.executionId,
      executionAttempt: this.attempt,
      maxPayloadBytes: this.deps.maxPayloadBytes,
      inPlaceBackoffMaxMs: this.deps.inPlaceBackoffMaxMs,
      random: this.deps.random,
      writer: this.writer,
      trace: this.trace,
      onStepFinished: (step, ms, ok) => this.deps.onStepFinished?.(this.taskName, step, ms, ok),
      onStepOutcome: (step, outcome) => this.deps.onStepOutcome?.(this.taskName, step, outcome),
    };
    return this.stepRunDeps;
  }

  private sleepUntilTime(name: string, computeWake: () => number): Promise<void> {
    return this.call<void>(name, "sleep", (record, seq) => {
      if (record?.state === "completed") return undefined;
      // The start and wake times are fixed the first time the sleep is reached; replays reuse them. The
      // start is read before the wake time is computed, so a sleep of d ms spans at least d ms.
      const startedAt = record?.startedAt ?? this.now();
      const wakeAt = record?.wakeAt ?? computeWake();
      if (this.now() >= wakeAt) {
        this.writer.hold(this.newRecord(name, "sleep", "completed", seq, { wakeAt, startedAt }));
        return undefined;
      }
      return { open: { record: record ?? this.newRecord(name, "sleep", "waiting", seq, { wakeAt, startedAt }), attempts: [] } };
    });
  }

  private timeOut(record: StepRecord): never {
    const error = new EventTimeoutError(record.name);
    const info: ErrorInfo = { message: error.message, step: record.name, code: error.code, name: error.name };
    this.writer.hold({ ...record, state: "failed", error: info, completedAt: this.order.stamp(), settledIn: this.order.run });
    throw error;
  }

  private now(): number {
    return this.deps.clock.now();
  }

  /** A record this run makes now (step-records.ts). */
  newRecord(name: string, kind: StepKind, state: StepRecord["state"], seq: number, fields: Partial<StepRecord> = {}): StepRecord {
    return newStepRecord(this, this.order, this.now(), { name, kind, state, seq }, fields);
  }
}
