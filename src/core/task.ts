import type { Duration } from "./duration.js";
import { toMs } from "./duration.js";
import type { Logger } from "./logger.js";
import { type ResolvedRetryPolicy, type RetryPolicy, resolveRetryPolicy } from "./retry-policy.js";
import { type CompiledSchema, compileSchema, type SchemaInput } from "./schema.js";

export interface StepOptions {
  retry?: RetryPolicy;
  /** Per attempt; aborts the attempt's signal and fails the attempt with a timeout. */
  timeout?: Duration;
}

export interface StepContext {
  /** 1-based attempt number of this step. */
  readonly attempt: number;
  /** Fires on cancel, execution timeout, lost lease, shutdown, or this attempt's timeout. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export interface WaitForEventOptions {
  timeout?: Duration;
  /** JSON Schema (or TypeBox type) the payload must match; checked at delivery (422 invalid_data). */
  schema?: object;
}

export interface ChildOptions {
  /** Cancelling the parent leaves this child running (by default it is cancelled with its parent). */
  detached?: boolean;
  /** Higher first (default 0). */
  priority?: number;
  /** Delayed start. */
  startAt?: Date | number;
  /** Overrides the child task's concurrency key. */
  concurrencyKey?: string;
}

/** What a task's `run` receives. Every method is durable: its outcome is recorded and replayed. */
export interface WorkflowContext {
  readonly executionId: string;
  readonly taskName: string;
  /** Execution-level attempt (task-level retries), 1-based. */
  readonly attempt: number;
  /** Fires on cancel, execution timeout, lost lease or shutdown. */
  readonly signal: AbortSignal;
  /** Tags every line with the execution id (and the step inside steps). */
  readonly log: Logger;
  step<T>(name: string, fn: (step: StepContext) => T | Promise<T>, options?: StepOptions): Promise<T>;
  sleep(name: string, duration: Duration): Promise<void>;
  sleepUntil(name: string, at: Date | number): Promise<void>;
  waitForEvent<T = unknown>(name: string, options?: WaitForEventOptions): Promise<T>;
  /** Starts a child execution (recorded, so a replay never starts it twice) and returns its id. */
  startChild(name: string, task: string | TaskDefinition, data: unknown, options?: ChildOptions): Promise<string>;
  /**
   * Starts a child execution and waits for it durably (the parent parks and frees its slot); returns the
   * child's output, or throws `ChildFailedError` (catchable) when it failed or was cancelled.
   */
  runChild<T = unknown>(name: string, task: string | TaskDefinition, data: unknown, options?: ChildOptions): Promise<T>;
}

export interface TaskOptions<I, O> {
  name: string;
  /** Input schema: JSON Schema / TypeBox, or any Standard Schema library. */
  input?: SchemaInput;
  /** Task-level retry: re-runs the execution from its last checkpoint after an unhandled error. */
  retry?: RetryPolicy;
  /** Execution timeout, counted from the first start. */
  timeout?: Duration;
  /**
   * At most `limit` executions of this task run at once across all workers (per key, when `key` is given:
   * e.g. one per customer). Waiting or sleeping executions hold no slot.
   */
  concurrency?: { limit: number; key?: (data: I) => string };
  /** `"buffered"`: events sent before the execution waits for them are kept for its next wait of that name. */
  events?: "buffered";
  run(ctx: WorkflowContext, data: I): Promise<O> | O;
}

export interface TaskConcurrency<I> {
  readonly limit: number;
  /** Whether `key` computes the key from the data (false: one task-wide group, key ""). */
  readonly keyed: boolean;
  key(data: I): string;
}

export interface TaskDefinition<I = unknown, O = unknown> {
  readonly name: string;
  readonly input: CompiledSchema | null;
  readonly retry: ResolvedRetryPolicy;
  readonly timeoutMs: number | null;
  readonly concurrency: TaskConcurrency<I> | null;
  readonly bufferedEvents: boolean;
  run(ctx: WorkflowContext, data: I): Promise<O> | O;
}

const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function defineTask<I = unknown, O = unknown>(options: TaskOptions<I, O>): TaskDefinition<I, O> {
  if (!TASK_NAME.test(options.name)) {
    throw new TypeError(
      `Invalid task name "${options.name}": use 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
    );
  }
  if (typeof options.run !== "function") throw new TypeError(`Task "${options.name}" needs a run(ctx, data) function`);
  const concurrency = options.concurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency.limit) && concurrency.limit >= 1)) {
    throw new TypeError(`Task "${options.name}": concurrency.limit must be an integer >= 1`);
  }
  if (options.events !== undefined && options.events !== "buffered")
    throw new TypeError(`Task "${options.name}": events must be "buffered"`);
  return {
    name: options.name,
    input: options.input ? compileSchema(options.input) : null,
    retry: resolveRetryPolicy(options.retry),
    timeoutMs: options.timeout === undefined ? null : toMs(options.timeout),
    concurrency: concurrency
      ? { limit: concurrency.limit, keyed: concurrency.key !== undefined, key: concurrency.key ?? (() => "") }
      : null,
    bufferedEvents: options.events === "buffered",
    run: options.run,
  };
}

export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as TaskDefinition).name === "string" &&
    typeof (value as TaskDefinition).run === "function" &&
    "retry" in value
  );
}
