/**
 * Zart: durable execution for Node.js. Write workflows as async functions; every step's result is
 * checkpointed so executions survive crashes, restarts and deploys.
 *
 * ```ts
 * import { defineTask, Engine, openStore } from "zart";
 *
 * export const greet = defineTask({
 *   name: "greet",
 *   async run(ctx, data: { name: string }) {
 *     const text = await ctx.step("compose", () => `Hello, ${data.name}!`);
 *     await ctx.sleep("pause", "1s");
 *     return { text };
 *   },
 * });
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
export {
  type ChildOptions,
  defineTask,
  type StepContext,
  type StepOptions,
  type TaskDefinition,
  type TaskOptions,
  type WaitForEventOptions,
  type WorkflowContext,
} from "./core/task.js";
export type { ErrorInfo, ExecutionRecord, ExecutionStatus, StatusCounts } from "./core/types.js";
export type { ScheduleRequest, ScheduleResult, ZartApi } from "./engine/api.js";
export { Engine } from "./engine/engine.js";
export type { EngineOptions, WorkerOptions } from "./engine/engine-options.js";
export type { CreateScheduleRequest, ScheduleApi, ScheduleInfo } from "./engine/schedules/schedule-api.js";
export type { EngineSchedules } from "./engine/schedules/scheduling.js";
export { openStore } from "./store/open-store.js";
export type { ScheduleRecord } from "./store/schedule-records.js";
export type { Store } from "./store/store.js";
