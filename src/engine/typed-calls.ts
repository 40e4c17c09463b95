/**
 * The engine's typed calls: schedule a task by its definition (its data type checked), read an
 * execution's output parsed and typed, send an event as a value. They wrap the JSON-text calls of
 * {@link ZartApi}, which the HTTP server uses, without changing them.
 */
import { ZartError } from "../core/errors.js";
import { encodeJson } from "../core/json.js";
import type { TaskDefinition } from "../core/task.js";
import type { EventMap, ExecutionTypes } from "../core/task-types.js";
import type { ExecutionRecord, ExecutionStatus } from "../core/types.js";
import type { ScheduleRequest, ScheduleResult } from "./api.js";

/** Options of `engine.schedule(task, data, options)`: those of a schedule request. */
export type TaskScheduleOptions = Omit<ScheduleRequest, "task" | "data">;

/**
 * What `engine.schedule(task, data)` answers: the schedule result, and a handle (`id`, with the task's
 * output and event types) for `engine.result` and `engine.sendEvent`.
 */
export interface ScheduledTask<O = unknown, E extends EventMap = EventMap> extends ScheduleResult, ExecutionTypes<O, E> {
  readonly id: string;
  readonly task: string;
}

/** An execution, for the typed calls: its id, a handle from `engine.schedule(task, …)`, or a record. */
export type ExecutionRef<O = unknown, E extends EventMap = EventMap> = string | ({ readonly id: string } & ExecutionTypes<O, E>);

/**
 * An execution with its output parsed: `output` is the task's output once `completed`, null before and
 * otherwise (a task that returns nothing completes with output null).
 */
export type ExecutionResult<O = unknown> = Omit<ExecutionRecord, "outputJson" | "status"> &
  ({ status: "completed"; output: O } | { status: Exclude<ExecutionStatus, "completed">; output: null });

/** The longest wait a timer can hold (setTimeout's limit): what `result` waits without a timeout. */
export const LONGEST_WAIT_MS = 2_147_483_647;

export function taskRequest(task: TaskDefinition, data: unknown, options: TaskScheduleOptions = {}): ScheduleRequest {
  return { ...options, task: task.name, data };
}

export function scheduledTask<O, E extends EventMap>(result: ScheduleResult): ScheduledTask<O, E> {
  return { ...result, id: result.execution.id, task: result.execution.task };
}

export function idOf(execution: ExecutionRef): string {
  return typeof execution === "string" ? execution : execution.id;
}

export function parsedExecution<O>(record: ExecutionRecord): ExecutionResult<O> {
  const { outputJson, ...rest } = record;
  const output = record.status === "completed" && outputJson !== null ? (JSON.parse(outputJson) as O) : null;
  return { ...rest, output } as ExecutionResult<O>;
}

/** An event payload given as a value, as the JSON text `deliverEvent` takes (`undefined` is `null`). */
export function payloadJson(payload: unknown, maxBytes: number): string {
  try {
    return encodeJson(payload, "payload", maxBytes);
  } catch (error) {
    const code = (error as { code?: string }).code === "payload_too_large" ? "payload_too_large" : "invalid_data";
    throw new ZartError(code, (error as Error).message);
  }
}
