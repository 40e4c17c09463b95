import type { Clock } from "../core/clock.js";
import { ExecutionAbortedError, StepTimeoutError } from "../core/errors.js";
import type { RunStop } from "./run-abort.js";

/** Where an attempt's AbortSignal comes from: read only if the step's function asks for it. */
export type SignalSource = { readonly signal: AbortSignal };

export type AttemptFn<T> = (signal: SignalSource) => T | Promise<T>;

/**
 * Runs one attempt of a step under its own AbortSignal, which fires when the execution is aborted
 * (cancel, timeout, lost lease, shutdown) or the attempt's timeout passes. The attempt settles as soon
 * as its signal fires, even if the user's function ignores the signal: nothing it returns later is used.
 * A step without a timeout that returns synchronously gives its value (or throws) without a promise.
 */
export function runAttempt<T>(
  fn: AttemptFn<T>,
  options: { stop: RunStop; clock: Clock; timeoutMs: number | null; step: string },
): T | Promise<T> {
  return options.timeoutMs === null ? runUntimed(fn, options.stop) : runTimed(fn, options, options.timeoutMs);
}

async function runTimed<T>(fn: AttemptFn<T>, options: { stop: RunStop; clock: Clock; step: string }, timeoutMs: number): Promise<T> {
  if (options.stop.reason !== null) throw options.stop.reason;
  const parent = options.stop.signal;
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onParentAbort, { once: true });
  const cancelTimer = options.clock.setTimer(timeoutMs, () => controller.abort(new StepTimeoutError(options.step, timeoutMs)));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(asAbortError(controller.signal.reason));
    controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(controller)), aborted]);
  } finally {
    cancelTimer();
    parent.removeEventListener("abort", onParentAbort);
    if (onAbort) controller.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * The common case, a step without a timeout: it shares the execution's abort, and a synchronous result
 * needs no race at all. Profiling W1 showed per-step AbortController setup and listener churn among the
 * top JavaScript costs, so this path makes neither: the run's signal only if the function asks for it,
 * and a promise it returns races the run's one rejection promise.
 */
function runUntimed<T>(fn: AttemptFn<T>, stop: RunStop): T | Promise<T> {
  if (stop.reason !== null) throw stop.reason;
  const result = fn(stop);
  if (!(result instanceof Promise)) return result;
  return Promise.race([result, stop.rejection()]);
}

function asAbortError(reason: unknown): Error {
  if (reason instanceof ExecutionAbortedError || reason instanceof StepTimeoutError) return reason;
  return reason instanceof Error ? reason : new ExecutionAbortedError("cancelled");
}
