/**
 * Zart: durable execution for Node.js. Write workflows as async functions; every step's result is
 * checkpointed so executions survive crashes, restarts and deploys.
 *
 * ```ts
 * import { defineTask, Engine, openStore } from "zart";
 *
 * export const greet = defineTask({
 *   name: "greet",
 *   input: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
 *   async run(ctx, data) {
 *     const text = await ctx.step("compose", () => `Hello, ${data.name}!`);
 *     await ctx.sleep("pause", "1s");
 *     return { text };
 *   },
 * });
 *
 * const store = await openStore("./zart.db");
 * const engine = await Engine.start({ store, tasks: [greet] });
 * const run = await engine.schedule(greet, { name: "Ada" });
 * const done = await engine.result(run); // done.output: { text: string } once completed
 * ```
 * @module
 */
export { type Clock, ManualClock, systemClock } from "./core/clock.js";
export type { Duration } from "./core/duration.js";
export {
  ChildFailedError,
  EventTimeoutError,
  ExecutionAbortedError,
  type FailureCode,
  NonRetryableError,
  StepFailedError,
  StepTimeoutError,
  WorkflowDefinitionError,
  ZartError,
} from "./core/errors.js";
export { type Logger, silentLogger } from "./core/logger.js";
export type { RetryPolicy } from "./core/retry-policy.js";
export { defineSchedule, type OverlapPolicy, type ScheduleDefinition, type ScheduleOptions } from "./core/schedule.js";
export type { InferSchema, SchemaInput } from "./core/schema.js";
export {
  type ChildOptions,
  defineTask,
  type EventSchemas,
  type EventTypes,
  type StepContext,
  type StepOptions,
  type TaskDefinition,
  type TaskOptions,
  type WaitForEventOptions,
  type WorkflowContext,
} from "./core/task.js";
export type { AnyData, EventMap, EventName, TaskTypes } from "./core/task-types.js";
export type { ErrorInfo, ExecutionRecord, ExecutionStatus, StatusCounts } from "./core/types.js";
export type { PruneOptions, ScheduleRequest, ScheduleResult, ZartApi } from "./engine/api.js";
export { Engine } from "./engine/engine.js";
export type { EngineOptions, RetentionOptions, WorkerOptions } from "./engine/engine-options.js";
export type { CreateScheduleRequest, ScheduleApi, ScheduleInfo } from "./engine/schedules/schedule-api.js";
export type { EngineSchedules } from "./engine/schedules/scheduling.js";
export type { ExecutionRef, ExecutionResult, ScheduledTask, TaskScheduleOptions } from "./engine/typed-calls.js";
export { openStore } from "./store/open-store.js";
export type { ScheduleRecord } from "./store/schedule-records.js";
export type { Store } from "./store/store.js";
