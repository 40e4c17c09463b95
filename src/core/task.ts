import type { Duration } from "./duration.js";
import { toMs } from "./duration.js";
import type { Logger } from "./logger.js";
import { refuseUnknownKeys } from "./option-keys.js";
import { type ResolvedRetryPolicy, type RetryPolicy, resolveRetryPolicy } from "./retry-policy.js";
import { type CompiledSchema, compileSchema, type InferSchema, type SchemaInput } from "./schema.js";
import type { AnyData, EventMap, EventName, TaskTypes } from "./task-types.js";

export interface StepOptions {
  retry?: RetryPolicy;
  /** Per attempt; aborts the attempt's signal and fails the attempt with a timeout. */
  timeout?: Duration;
}

export interface StepContext {
  /** 1-based attempt number of this step. */
  readonly attempt: number;
  /**
   * When this attempt started, on the engine's clock (the database's, on PostgreSQL): after the engine
   * confirmed the execution's lease, before the step's function was called.
   */
  readonly startedAt: Date;
  /** Fires on cancel, execution timeout, lost lease, shutdown, or this attempt's timeout. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export interface WaitForEventOptions<S extends SchemaInput = SchemaInput> {
  timeout?: Duration;
  /**
   * JSON Schema, TypeBox type or Standard Schema the payload must match; checked at delivery (422
   * invalid_data) when it is (or converts to) JSON Schema. Defaults to the task's `eventSchemas` entry.
   */
  schema?: S;
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

/**
 * What a task's `run` receives. Every method is durable: its outcome is recorded and replayed. `E`: the
 * task's event payload types (from `eventSchemas`).
 */
export interface WorkflowContext<E extends EventMap = EventMap> {
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
  /**
   * Waits for an event. The payload is typed from the `schema` option, else from the task's
   * `eventSchemas`; with neither it is `unknown`, or the type argument given (`waitForEvent<T>(name)`).
   */
  waitForEvent<N extends EventName<E>, const S extends SchemaInput = never>(
    name: N,
    options?: WaitForEventOptions<S>,
  ): Promise<[S] extends [never] ? E[N] : InferSchema<S>>;
  waitForEvent<T>(name: EventName<E>, options?: WaitForEventOptions): Promise<T>;
  /** Starts a child execution (recorded, so a replay never starts it twice) and returns its id. */
  startChild<I>(name: string, task: TaskDefinition<I>, data: I, options?: ChildOptions): Promise<string>;
  startChild(name: string, task: string, data: object, options?: ChildOptions): Promise<string>;
  /**
   * Starts a child execution and waits for it durably (the parent parks and frees its slot); returns the
   * child's output, or throws `ChildFailedError` (catchable) when it failed or was cancelled.
   */
  runChild<I, O>(name: string, task: TaskDefinition<I, O>, data: I, options?: ChildOptions): Promise<O>;
  runChild<T = unknown>(name: string, task: string, data: object, options?: ChildOptions): Promise<T>;
}

/** What `defineTask` takes. Types: `S` the input schema, `I` the data, `O` the output, `ES` the event schemas. */
export interface TaskOptions<N extends string, S extends SchemaInput | undefined, I, O, ES extends EventSchemas> {
  name: N;
  /**
   * Input schema, checked when an execution is scheduled: JSON Schema (an object literal, read as one),
   * a TypeBox type, or any Standard Schema library (zod, valibot, arktype). It types `data`.
   */
  input?: S;
  /**
   * The events the task waits for, by name, with their payload schemas (same kinds as `input`). They type
   * `ctx.waitForEvent`, `sendEvent` and typed clients, and a wait without its own `schema` checks its
   * payload against this one at delivery.
   */
  eventSchemas?: ES;
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
  run(ctx: WorkflowContext<EventTypes<ES>>, data: I): Promise<O> | O;
}

/** Event payload schemas by event name. */
export type EventSchemas = Record<string, SchemaInput>;

/** The payload types that event schemas declare: any name and payload when none are declared. */
export type EventTypes<ES extends EventSchemas> = string extends keyof ES ? EventMap : { [K in keyof ES]: InferSchema<ES[K]> };

export interface TaskConcurrency<I> {
  readonly limit: number;
  /** Whether `key` computes the key from the data (false: one task-wide group, key ""). */
  readonly keyed: boolean;
  key(data: I): string;
}

/** A task: `I` its data, `O` its output, `N` its name, `E` its events' payload types. */
export interface TaskDefinition<I = unknown, O = unknown, N extends string = string, E extends EventMap = EventMap> {
  readonly name: N;
  readonly input: CompiledSchema | null;
  /** Compiled `eventSchemas`, by event name. */
  readonly eventSchemas: ReadonlyMap<string, CompiledSchema>;
  readonly retry: ResolvedRetryPolicy;
  readonly timeoutMs: number | null;
  readonly concurrency: TaskConcurrency<I> | null;
  readonly bufferedEvents: boolean;
  run(ctx: WorkflowContext<E>, data: I): Promise<O> | O;
  /** Type-only (always undefined): the task's data, output and event types, for typed handles and clients. */
  readonly "~types"?: TaskTypes<I, O, E>;
}

const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TASK_OPTIONS: ReadonlySet<string> = new Set(["name", "input", "eventSchemas", "retry", "timeout", "concurrency", "events", "run"]);
const CONCURRENCY_OPTIONS: ReadonlySet<string> = new Set(["limit", "key"]);

/**
 * Defines a task. `data` is typed from `input` (or from an annotation on `run`'s parameter when there is
 * no schema), the output from what `run` returns, `ctx.waitForEvent` from `eventSchemas`.
 */
export function defineTask<
  const N extends string,
  const S extends SchemaInput | undefined = undefined,
  I = undefined extends S ? AnyData : InferSchema<S>,
  O = unknown,
  const ES extends EventSchemas = EventSchemas,
>(options: TaskOptions<N, S, I, O, ES>): TaskDefinition<I, Awaited<O>, N, EventTypes<ES>> {
  if (!TASK_NAME.test(options.name)) {
    throw new TypeError(
      `Invalid task name "${options.name}": use 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
    );
  }
  if (typeof options.run !== "function") throw new TypeError(`Task "${options.name}" needs a run(ctx, data) function`);
  refuseUnknownKeys(options, TASK_OPTIONS, `Task "${options.name}": options`);
  const concurrency = options.concurrency;
  if (concurrency !== undefined) checkConcurrency(options.name, concurrency);
  if (options.events !== undefined && options.events !== "buffered")
    throw new TypeError(`Task "${options.name}": events must be "buffered"`);
  return {
    name: options.name,
    input: options.input ? inTask(options.name, "input: ", () => compileSchema(options.input as SchemaInput)) : null,
    eventSchemas: compileEventSchemas(options.name, options.eventSchemas),
    retry: inTask(options.name, "", () => resolveRetryPolicy(options.retry)),
    timeoutMs: options.timeout === undefined ? null : inTask(options.name, "timeout: ", () => toMs(options.timeout as Duration)),
    concurrency: concurrency
      ? { limit: concurrency.limit, keyed: concurrency.key !== undefined, key: concurrency.key ?? (() => "") }
      : null,
    bufferedEvents: options.events === "buffered",
    run: options.run as TaskDefinition<I, Awaited<O>, N, EventTypes<ES>>["run"],
  };
}

function compileEventSchemas(task: string, schemas: EventSchemas | undefined): ReadonlyMap<string, CompiledSchema> {
  const compiled = new Map<string, CompiledSchema>();
  if (schemas === undefined) return compiled;
  if (typeof schemas !== "object" || schemas === null) throw new TypeError(`Task "${task}": eventSchemas must be an object`);
  for (const [name, schema] of Object.entries(schemas))
    compiled.set(
      name,
      inTask(task, `eventSchemas["${name}"]: `, () => compileSchema(schema)),
    );
  return compiled;
}

function checkConcurrency(task: string, concurrency: { limit: number; key?: unknown }): void {
  if (typeof concurrency !== "object" || concurrency === null) throw new TypeError(`Task "${task}": concurrency must be an object`);
  refuseUnknownKeys(concurrency, CONCURRENCY_OPTIONS, `Task "${task}": concurrency`);
  if (!(Number.isInteger(concurrency.limit) && concurrency.limit >= 1))
    throw new TypeError(`Task "${task}": concurrency.limit must be an integer >= 1`);
  if (concurrency.key !== undefined && typeof concurrency.key !== "function")
    throw new TypeError(`Task "${task}": concurrency.key must be a function of the data`);
}

/** A part of a task's definition as `read` makes it; its error names the task and the part. */
function inTask<T>(task: string, part: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new TypeError(`Task "${task}": ${part}${(error as Error).message}`);
  }
}

/** How an error names a value that should have been a definition: `undefined`, `null`, `a string`… */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
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
