/**
 * What a `ctx` call throws from a record, and how it reads its arguments: the errors a replay throws for
 * recorded failures (the same as the first run threw), and durations checked as definition errors.
 */
import { type Duration, storableTime, toMs } from "../core/duration.js";
import { ChildFailedError, StepFailedError, WorkflowDefinitionError } from "../core/errors.js";
import { refuseUnknownKeys } from "../core/option-keys.js";
import { type ResolvedRetryPolicy, resolveRetryPolicy } from "../core/retry-policy.js";
import type { ChildOptions, StepOptions, WaitForEventOptions } from "../core/task.js";
import type { StepRecord } from "../core/types.js";

/** An argument of a `ctx` call as `read` makes it, or a definition error (not retried) naming the call. */
export function definitionArgument<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new WorkflowDefinitionError("invalid_argument", `${what}: ${(error as Error).message}`);
  }
}

const STEP_OPTIONS: ReadonlySet<string> = new Set(["retry", "timeout"]);
const WAIT_OPTIONS: ReadonlySet<string> = new Set(["timeout", "schema"]);
const CHILD_OPTIONS: ReadonlySet<string> = new Set(["detached", "priority", "startAt", "concurrencyKey"]);

/** A step's retry policy, its options checked: a definition error names the step and the bad option. */
export function stepRetryPolicy(name: string, options: StepOptions): ResolvedRetryPolicy {
  return definitionArgument(`step("${name}")`, () => {
    refuseUnknownKeys(options, STEP_OPTIONS, "options");
    return resolveRetryPolicy(options.retry);
  });
}

/** A wait's options hold only what a wait reads, or a definition error names the wait and the bad option. */
export function checkWaitOptions(name: string, options: WaitForEventOptions): void {
  definitionArgument(`waitForEvent("${name}")`, () => refuseUnknownKeys(options, WAIT_OPTIONS, "options"));
}

/** A child's options hold only what a child reads (its values are checked with the child, as a POST's). */
export function checkChildOptions(call: string, options: ChildOptions): void {
  definitionArgument(call, () => {
    refuseUnknownKeys(options, CHILD_OPTIONS, "options");
    if (options.detached !== undefined && typeof options.detached !== "boolean") throw new TypeError("options.detached must be a boolean");
  });
}

/** A duration given to a `ctx` call, or a definition error (not retried) naming the call. */
export function durationMs(duration: Duration, what: string): number {
  const ms = definitionArgument(what, () => toMs(duration));
  if (storableTime(Date.now() + ms) === null) throw new WorkflowDefinitionError("invalid_argument", `${what}: ${duration} is too long`);
  return ms;
}

export function stepFailure(record: StepRecord): Error {
  return new StepFailedError(
    record.name,
    record.error?.code === "worker_crashed"
      ? (record.error.message ?? "worker crashed")
      : `Step "${record.name}" failed after ${record.attempts} attempt(s): ${record.error?.message ?? "unknown error"}`,
    record.attempts,
    record.error?.code === "worker_crashed" ? "worker_crashed" : "step_failed",
  );
}

export function childFailure(record: StepRecord): Error {
  const code = record.error?.code;
  const known = code === "child_cancelled" || code === "invalid_data" || code === "task_not_registered" ? code : "child_failed";
  return new ChildFailedError(record.name, record.error?.message ?? "child execution failed", record.childId, known);
}

/**
 * A `startChild` record: completed when the child was started, with no result. A `runChild` record is
 * completed only with the child's output, which is never absent (an output of `undefined` is `null`).
 */
export function isChildStart(record: StepRecord): boolean {
  return record.kind === "child" && record.state === "completed" && record.resultJson === null && record.childId !== null;
}

/** `runChild` reached a record `startChild` made: it holds no result, and waiting on it now could miss the child's end. */
export function startedNotRun(name: string): WorkflowDefinitionError {
  return new WorkflowDefinitionError(
    "nondeterminism",
    `The workflow reached "${name}" as a child execution it waits for (runChild), but this execution recorded it as a child it only started (startChild): ` +
      "its code changed in a way that does not replay (see docs/versioning.md)",
  );
}
