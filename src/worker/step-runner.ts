/**
 * Runs one step for real: attempts under its retry policy, each under its own signal and timeout, with a
 * record held for the next write once it succeeds or fails for good. A short backoff waits in place; a
 * long one opens a `retrying` wait, so the run parks and frees its slot.
 *
 * Attempt numbers count across execution attempts (a task-level retry's re-run of a step continues the
 * numbering), while the retry policy's budget is per execution attempt. Crashed attempts (the worker died
 * while the step ran, seen as an expired lease) are charged to the next step run for real: they appear in
 * its history as attempts with code `worker_crashed` and count against its budget, which for crashes is
 * at least MIN_CRASH_ATTEMPTS, so a step without a retry policy still survives a deploy's SIGKILL.
 */
import type { Clock } from "../core/clock.js";
import { engineFailure, StepFailedError, toError, WorkflowDefinitionError } from "../core/errors.js";
import { encodeValue } from "../core/json.js";
import type { Logger } from "../core/logger.js";
import { backoffDelay, type ResolvedRetryPolicy, shouldRetry } from "../core/retry-policy.js";
import type { StepContext } from "../core/task.js";
import type { AttemptRecord, ErrorInfo, StepRecord } from "../core/types.js";
import { errorInfo } from "./error-info.js";
import type { ExecutionLogger } from "./execution-logger.js";
import type { RecordWriter } from "./record-writer.js";
import type { RunStop } from "./run-abort.js";
import type { OpenWait } from "./run-activity.js";
import { runAttempt, type SignalSource } from "./run-attempt.js";
import type { RunTrace } from "./tracing.js";

/** Crashed attempts every step may make before it fails with `worker_crashed`, whatever its retry policy. */
const MIN_CRASH_ATTEMPTS = 5;

export interface StepRunDeps {
  clock: Clock;
  /** The completion time of a record made now and this run's token (settle-order.ts). */
  settle: { stamp(): number; run: number };
  log: ExecutionLogger;
  /** The run's abort: steps check it, race it, and make its signal only when a step function asks. */
  stop: RunStop;
  executionId: string;
  executionAttempt: number;
  maxPayloadBytes: number;
  inPlaceBackoffMaxMs: number;
  random: () => number;
  writer: RecordWriter;
  /** The run's span: each attempt made here gets a span under it. */
  trace?: RunTrace | null;
  onStepFinished?(step: string, ms: number, ok: boolean): void;
  /** A step ended (completed, or failed for good), or a failed attempt will be retried. */
  onStepOutcome?(step: string, outcome: StepOutcomeLabel): void;
}

export type StepOutcomeLabel = "completed" | "failed" | "retried";

export interface StepCall<T> {
  name: string;
  seq: number;
  fn: (step: StepContext) => T | Promise<T>;
  policy: ResolvedRetryPolicy;
  timeoutMs: number | null;
  /** The step's record from an earlier run: `discarded` (a retry set its failure aside) or `retrying` (its backoff ended). */
  previous: StepRecord | undefined;
}

export type StepOutcome<T> = { kind: "value"; value: T } | { kind: "wait"; wait: OpenWait };

export async function runStep<T>(deps: StepRunDeps, call: StepCall<T>): Promise<StepOutcome<T>> {
  const { clock, writer } = deps;
  const { name, previous, policy } = call;
  const startedAt = previous?.state === "retrying" ? previous.startedAt : clock.now();
  // Attempts made before this execution attempt (a discarded record) do not count against this budget.
  const base = previous?.state === "discarded" ? previous.attempts : 0;
  let attempt = previous?.attempts ?? 0;
  const failures: AttemptRecord[] = [];
  const record = (state: StepRecord["state"], fields: Partial<StepRecord>): StepRecord => ({
    executionId: deps.executionId,
    name,
    kind: "step",
    state,
    resultJson: null,
    error: null,
    attempts: attempt,
    wakeAt: null,
    schemaJson: null,
    startedAt,
    completedAt: state === "completed" || state === "failed" ? deps.settle.stamp() : null,
    seq: call.seq,
    childId: null,
    copiedFrom: null,
    settledIn: state === "completed" || state === "failed" ? deps.settle.run : null,
    executionAttempt: deps.executionAttempt,
    ...fields,
  });

  let crashed = writer.chargeCrashes();
  const charged = crashed > 0;
  if (crashed > 0) {
    for (let i = 0; i < crashed; i++) {
      attempt += 1;
      failures.push(attemptRecord(deps, name, attempt, clock.now(), crashError(name)));
    }
    if (crashed >= Math.max(policy.maxAttempts - (attempt - crashed - base), MIN_CRASH_ATTEMPTS)) {
      const error = engineFailure("worker_crashed", `Step "${name}" crashed its worker ${crashed} time(s)`, name);
      if (crashed > 0) writer.crashesAccounted();
      writer.hold(record("failed", { error }), failures);
      deps.onStepOutcome?.(name, "failed");
      throw new StepFailedError(name, error.message, attempt, "worker_crashed");
    }
    deps.log.warn({ step: name, crashes: crashed }, `step "${name}" runs again after crashing its worker`);
  }
  const log = deps.log.forStep(name);
  for (;;) {
    const holds = writer.leaseHolds();
    if (holds !== true && !(await holds)) {
      writer.holdAttempts(failures);
      throw deps.stop.reason;
    }
    attempt += 1;
    const attemptStart = clock.now();
    let error: Error;
    const span = deps.trace?.step(name, attempt) ?? null;
    try {
      const leave = deps.log.enter(log);
      let value: T;
      try {
        const attemptFn = (signal: SignalSource) => call.fn(new AttemptContext(attempt, attemptStart, log, signal));
        const options = { stop: deps.stop, clock, timeoutMs: call.timeoutMs, step: name };
        const pending = span ? span.run(() => runAttempt(attemptFn, options)) : runAttempt(attemptFn, options);
        // A synchronous step's value goes on without a microtask hop; anything with a `then` is awaited.
        value = isThenable(pending) ? await pending : pending;
      } finally {
        leave();
      }
      const encoded = encodeValue(value, `Result of step "${name}"`, deps.maxPayloadBytes);
      span?.end();
      if (charged) writer.crashesAccounted();
      writer.hold(record("completed", { resultJson: encoded.json, attemptStartedAt: attemptStart }), failures);
      deps.onStepFinished?.(name, clock.now() - attemptStart, true);
      deps.onStepOutcome?.(name, "completed");
      return { kind: "value", value: encoded.value as T };
    } catch (thrown) {
      span?.end(thrown);
      if (deps.stop.reason !== null) {
        // The run stops (shutdown, cancel, lost lease): attempts failed so far go with its last write.
        writer.holdAttempts(failures);
        throw deps.stop.reason;
      }
      error = toError(thrown);
    }
    failures.push(attemptRecord(deps, name, attempt, attemptStart, errorInfo(error, name)));
    deps.onStepFinished?.(name, clock.now() - attemptStart, false);
    if (error instanceof WorkflowDefinitionError) {
      // A result no store can hold (or another definition error): another attempt would repeat it, and the
      // execution fails without task-level retries (docs/engine.md, "Values"); the caller sees it as fatal.
      if (charged) writer.crashesAccounted();
      writer.hold(record("failed", { error: errorInfo(error, name), attemptStartedAt: attemptStart }), failures);
      deps.onStepOutcome?.(name, "failed");
      error.step ??= name;
      throw error;
    }
    const made = attempt - base - crashed;
    let retry: boolean;
    try {
      retry = shouldRetry(policy, made, error);
    } catch (predicateError) {
      // A throwing retryIf is the workflow's bug: the step fails for good, with both errors said.
      retry = false;
      error = new Error(`${error.message} (and its retry policy's retryIf threw: ${toError(predicateError).message})`);
    }
    crashed = 0;
    if (!retry) {
      if (charged) writer.crashesAccounted();
      writer.hold(record("failed", { error: errorInfo(error, name), attemptStartedAt: attemptStart }), failures);
      deps.onStepOutcome?.(name, "failed");
      throw new StepFailedError(name, `Step "${name}" failed after ${attempt} attempt(s): ${error.message}`, attempt);
    }
    deps.onStepOutcome?.(name, "retried");
    const delay = backoffDelay(policy, made, deps.random);
    log.warn({ attempt, delayMs: delay, err: error }, "step attempt failed; retrying");
    if (delay > deps.inPlaceBackoffMaxMs) {
      if (charged) writer.crashesAccounted();
      return { kind: "wait", wait: { record: record("retrying", { wakeAt: clock.now() + delay }), attempts: failures } };
    }
    await clock.sleep(delay, deps.stop.signal).catch(() => {
      writer.holdAttempts(failures);
      throw deps.stop.reason;
    });
  }
}

/** What a step's function receives; the run's signal is made on first read (most functions never read it). */
class AttemptContext implements StepContext {
  readonly #source: SignalSource;
  readonly #startedAt: number;

  constructor(
    readonly attempt: number,
    startedAt: number,
    readonly log: Logger,
    source: SignalSource,
  ) {
    this.#startedAt = startedAt;
    this.#source = source;
  }

  /** A Date only for a function that asks (most never do). */
  get startedAt(): Date {
    return new Date(this.#startedAt);
  }

  get signal(): AbortSignal {
    return this.#source.signal;
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function attemptRecord(deps: StepRunDeps, step: string, attempt: number, startedAt: number, error: ErrorInfo): AttemptRecord {
  return {
    executionId: deps.executionId,
    step,
    attempt,
    executionAttempt: deps.executionAttempt,
    startedAt,
    endedAt: deps.clock.now(),
    error,
  };
}

function crashError(step: string): ErrorInfo {
  return engineFailure("worker_crashed", "The worker running this attempt stopped before it ended (its lease expired)", step);
}
