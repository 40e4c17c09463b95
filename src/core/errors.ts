/**
 * Errors with stable string codes. The HTTP layer maps codes to statuses in one place
 * (`src/server/error-map.ts`); everything else only throws these.
 */
import type { ErrorInfo } from "./types.js";

export const ERROR_CODES = [
  "execution_not_found",
  "task_not_registered",
  "invalid_data",
  "not_waiting_for_event",
  "execution_already_exists",
  "execution_not_cancellable",
  "execution_not_retryable",
  "invalid_json",
  "invalid_request",
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "payload_too_large",
  "headers_too_large",
  "unsupported_media_type",
  "internal_error",
  "store_unavailable",
  "overloaded",
  "schedule_not_found",
  "schedule_already_exists",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class ZartError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ZartError";
    this.code = code;
  }
}

/**
 * The codes an execution's or a step's recorded `error` carries when the engine made the failure (user
 * errors carry their own `code` when they have one). Stable: clients may branch on them.
 */
export const FAILURE_CODES = [
  "step_failed",
  "step_timeout",
  "event_timeout",
  "timeout",
  "worker_crashed",
  "nondeterminism",
  "duplicate_step_name",
  "invalid_step_name",
  "invalid_argument",
  "not_serializable",
  "payload_too_large",
  "checkpoint_rejected",
  "child_failed",
  "child_cancelled",
  "invalid_data",
  "task_not_registered",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

/** The recorded error of a failure the engine made (not the workflow's code). */
export function engineFailure(code: FailureCode, message: string, step: string | null): ErrorInfo {
  return { message, step, code };
}

/** Thrown by `ctx.step` when the step failed after its retries (or replays a recorded failure). Catchable. */
export class StepFailedError extends Error {
  readonly step: string;
  readonly attempts: number;
  readonly code: FailureCode;
  constructor(step: string, message: string, attempts: number, code: FailureCode = "step_failed") {
    super(message);
    this.name = "StepFailedError";
    this.step = step;
    this.attempts = attempts;
    this.code = code;
  }
}

/** Thrown by `ctx.runChild` when the child failed or was cancelled. Catchable; recorded, so replays agree. */
export class ChildFailedError extends StepFailedError {
  readonly childId: string | null;
  constructor(
    step: string,
    message: string,
    childId: string | null,
    code: Extract<FailureCode, "child_failed" | "child_cancelled" | "invalid_data" | "task_not_registered">,
  ) {
    super(step, message, 1, code);
    this.name = "ChildFailedError";
    this.childId = childId;
  }
}

/** A step attempt that ran past its `timeout`; counts as a failed attempt. */
export class StepTimeoutError extends Error {
  readonly code = "step_timeout" satisfies FailureCode;
  constructor(step: string, ms: number) {
    super(`Step "${step}" attempt timed out after ${ms} ms`);
    this.name = "StepTimeoutError";
  }
}

/** Thrown by `ctx.waitForEvent` when its timeout passes first. Catchable; recorded, so replays agree. */
export class EventTimeoutError extends Error {
  readonly step: string;
  readonly code = "event_timeout" satisfies FailureCode;
  constructor(eventName: string, message = `Timed out waiting for event "${eventName}"`) {
    super(message);
    this.name = "EventTimeoutError";
    this.step = eventName;
  }
}

/** Throw (or wrap) this inside a step to skip the remaining retries. */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}

/** A programming error in the workflow (duplicate step name, value that is not JSON, …): never retried. */
export class WorkflowDefinitionError extends NonRetryableError {
  readonly code: FailureCode;
  /** The step whose own record it failed (a result no store can hold), set by the step's runner. */
  step: string | null = null;
  constructor(code: FailureCode, message: string) {
    super(message);
    this.name = "WorkflowDefinitionError";
    this.code = code;
  }
}

/** Why a running execution's code was told to stop through `ctx.signal`. */
export type AbortReason = "cancelled" | "timeout" | "lease_lost" | "shutdown";

export class ExecutionAbortedError extends Error {
  readonly reason: AbortReason;
  constructor(reason: AbortReason) {
    super(`Execution aborted: ${reason}`);
    this.name = "ExecutionAbortedError";
    this.reason = reason;
  }
}

/** Normalise anything thrown into an Error, so no `catch (e: any)` leaks further. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return hasTextFields(thrown) ? thrown : textCopy(thrown);
  if (typeof thrown === "string") return new Error(thrown);
  return new Error(`Non-error thrown: ${shown(thrown, "undefined")}`);
}

/**
 * The workflow may set an Error's fields to anything: a BigInt, an object or a symbol as its message, a
 * getter that throws. Such an error breaks whatever reads it as text (a template, its own stack, the
 * store's JSON), so the engine goes on with a copy whose message and name are text (the original as its
 * `cause`, its code kept when it is text).
 */
function hasTextFields(error: Error): boolean {
  try {
    return typeof error.message === "string" && typeof error.name === "string";
  } catch {
    return false;
  }
}

function textCopy(error: Error): Error {
  const copy = new Error(shown(field(error, "message"), ""), { cause: error });
  copy.name = shown(field(error, "name"), "Error");
  const code = field(error, "code");
  if (typeof code === "string") (copy as Error & { code?: string }).code = code;
  return copy;
}

function field(error: Error, name: string): unknown {
  try {
    return (error as unknown as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

/** A value as text: a string as it is, JSON where it has one (objects, numbers), else what String() gives. */
function shown(value: unknown, absent: string): string {
  if (typeof value === "string") return value;
  if (value === undefined) return absent;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // a BigInt, a cycle: String() below
  }
  try {
    return String(value);
  } catch {
    return absent;
  }
}
