import type { Clock } from "../core/clock.js";
import { ExecutionAbortedError } from "../core/errors.js";

export class StepTimeoutError extends Error {
  readonly code = "step_timeout";
  constructor(step: string, ms: number) {
    super(`Step "${step}" attempt timed out after ${ms} ms`);
    this.name = "StepTimeoutError";
  }
}

/**
 * Runs one attempt of a step under its own AbortSignal, which fires when the execution is aborted
 * (cancel, timeout, lost lease, shutdown) or the attempt's timeout passes. The attempt settles as soon
 * as its signal fires, even if the user's function ignores the signal: nothing it returns later is used.
 */
export async function runAttempt<T>(
  fn: (signal: AbortSignal) => T | Promise<T>,
  options: { parent: AbortSignal; clock: Clock; timeoutMs: number | null; step: string },
): Promise<T> {
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

function asAbortError(reason: unknown): Error {
  if (reason instanceof ExecutionAbortedError || reason instanceof StepTimeoutError) return reason;
  return reason instanceof Error ? reason : new ExecutionAbortedError("cancelled");
}
