import { type Duration, toMs } from "./duration.js";
import { NonRetryableError } from "./errors.js";
import { refuseUnknownKeys } from "./option-keys.js";

/** How a step (or a whole execution) is retried. Attempts count the first try: 1 means no retries. */
export interface RetryPolicy {
  maxAttempts?: number;
  backoff?: "fixed" | "exponential";
  /** Delay before the first retry. Default 1s. */
  initialDelay?: Duration;
  /** Upper bound on any delay. Default 5m. */
  maxDelay?: Duration;
  /** Multiplier for exponential backoff. Default 2. */
  factor?: number;
  /** Fraction of each delay that is randomised (0..1). Default 0.2: delays fall in [0.8d, d]. */
  jitter?: number;
  /** Return false for errors that must not be retried. `NonRetryableError` is never retried either way. */
  retryIf?: (error: Error) => boolean;
}

export interface ResolvedRetryPolicy {
  maxAttempts: number;
  backoff: "fixed" | "exponential";
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  jitter: number;
  retryIf: ((error: Error) => boolean) | undefined;
}

const OPTIONS: ReadonlySet<string> = new Set(["maxAttempts", "backoff", "initialDelay", "maxDelay", "factor", "jitter", "retryIf"]);

/** Checks the shape of a policy: a misspelt option or value would otherwise be a policy silently not applied. */
function checkShape(policy: RetryPolicy): void {
  if (typeof policy !== "object" || Array.isArray(policy)) throw new TypeError("retry must be an object of retry options");
  refuseUnknownKeys(policy, OPTIONS, "retry");
  if (policy.backoff !== undefined && policy.backoff !== "fixed" && policy.backoff !== "exponential")
    throw new TypeError(`retry.backoff must be "fixed" or "exponential", got ${JSON.stringify(policy.backoff)}`);
  if (policy.retryIf !== undefined && typeof policy.retryIf !== "function") throw new TypeError("retry.retryIf must be a function");
}

const NO_RETRY: ResolvedRetryPolicy = resolveRetryPolicy({ maxAttempts: 1 });

/** Resolves a policy once, where it is defined; throws TypeError or RangeError naming a bad option. */
export function resolveRetryPolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  if (policy === undefined || policy === null) return NO_RETRY;
  checkShape(policy);
  const maxAttempts = policy.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  const jitter = policy.jitter ?? 0.2;
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) throw new RangeError(`retry.jitter must be within 0..1, got ${jitter}`);
  const factor = policy.factor ?? 2;
  if (typeof factor !== "number" || !(factor >= 1)) throw new RangeError(`retry.factor must be >= 1, got ${factor}`);
  return {
    maxAttempts,
    backoff: policy.backoff ?? "exponential",
    initialDelayMs: optionMs("initialDelay", policy.initialDelay ?? 1000),
    maxDelayMs: optionMs("maxDelay", policy.maxDelay ?? "5m"),
    factor,
    jitter,
    retryIf: policy.retryIf,
  };
}

function optionMs(option: string, duration: Duration): number {
  try {
    return toMs(duration);
  } catch (error) {
    throw new RangeError(`retry.${option}: ${(error as Error).message}`);
  }
}

/** Whether another attempt may follow `attemptsMade` failed attempts ending in `error`. */
export function shouldRetry(policy: ResolvedRetryPolicy, attemptsMade: number, error: Error): boolean {
  if (attemptsMade >= policy.maxAttempts) return false;
  if (error instanceof NonRetryableError) return false;
  return policy.retryIf ? policy.retryIf(error) : true;
}

/** Delay before retry number `retry` (1 = the first retry). `random` is injectable so tests are exact. */
export function backoffDelay(policy: ResolvedRetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.backoff === "fixed" ? policy.initialDelayMs : policy.initialDelayMs * policy.factor ** (retry - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}
