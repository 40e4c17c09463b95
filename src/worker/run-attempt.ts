import type { Clock } from "../core/clock.js";
import { ExecutionAbortedError, StepTimeoutError } from "../core/errors.js";

/**
 * Runs one attempt of a step under its own AbortSignal, which fires when the execution is aborted
 * (cancel, timeout, lost lease, shutdown) or the attempt's timeout passes. The attempt settles as soon
 * as its signal fires, even if the user's function ignores the signal: nothing it returns later is used.
 */
export async function runAttempt<T>(
  fn: (signal: AbortSignal) => T | Promise<T>,
  options: { parent: AbortSignal; clock: Clock; timeoutMs: number | null; step: string },
): Promise<T> {
  if (options.timeoutMs === null) return runUntimed(fn, options.parent);
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(options.parent.reason);
  if (options.parent.aborted) throw asAbortError(options.parent.reason);
  options.parent.addEventListener("abort", onParentAbort, { once: true });
  const { timeoutMs } = options;
  const cancelTimer =
    timeoutMs === null ? null : options.clock.setTimer(timeoutMs, () => controller.abort(new StepTimeoutError(options.step, timeoutMs)));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(asAbortError(controller.signal.reason));
    controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), aborted]);
  } finally {
    cancelTimer?.();
    options.parent.removeEventListener("abort", onParentAbort);
    if (onAbort) controller.signal.removeEventListener("abort", onAbort);
  }
}

/** One "aborted" promise per execution signal, shared by all its untimed steps. */
const abortedBySignal = new WeakMap<AbortSignal, Promise<never>>();

function abortedPromise(signal: AbortSignal): Promise<never> {
  let promise = abortedBySignal.get(signal);
  if (!promise) {
    promise = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(asAbortError(signal.reason)), { once: true });
    });
    promise.catch(() => {}); // observed through Promise.race; never an unhandled rejection
    abortedBySignal.set(signal, promise);
  }
  return promise;
}

/**
 * The common case, a step without a timeout: it shares the execution's signal, and a synchronous
 * result needs no race at all. Profiling W1 on SQLite showed per-step AbortController setup and
 * listener churn among the top JavaScript costs, so this path avoids both.
 */
async function runUntimed<T>(fn: (signal: AbortSignal) => T | Promise<T>, parent: AbortSignal): Promise<T> {
  if (parent.aborted) throw asAbortError(parent.reason);
  const result = fn(parent);
  if (!(result instanceof Promise)) return result;
  return Promise.race([result, abortedPromise(parent)]);
}

function asAbortError(reason: unknown): Error {
  if (reason instanceof ExecutionAbortedError || reason instanceof StepTimeoutError) return reason;
  return reason instanceof Error ? reason : new ExecutionAbortedError("cancelled");
}
