/**
 * A small typed client for the Zart HTTP API over the global `fetch` (Node 18+, browsers, Deno, Bun).
 * No runtime dependencies. Request and response fields carry the API's own (snake_case) names.
 *
 * ```ts
 * import { ZartClient } from "zart/client";
 * // Typed from the task module (types only: nothing of it is loaded), or untyped without the argument.
 * const zart = new ZartClient<typeof import("./tasks.js")>({ baseUrl: "http://127.0.0.1:7700", token: process.env.ZART_TOKEN });
 * const { execution_id } = await zart.schedule("onboarding", { user_id: "u1", email: "u1@example.com" });
 * await zart.sendEvent(execution_id, "manager-approval", { approved: true, reviewer: "jane" });
 * const done = await zart.wait(execution_id, { timeoutSeconds: 30 });
 * const { steps } = await zart.steps(execution_id);
 * await zart.schedules.create({ schedule_id: "nightly-report", task: "report", cron: "0 3 * * *" });
 * ```
 *
 * Failures: {@link ZartHttpError} when the server answered with an error (`code`, `status`,
 * `message` from the contract's error body), {@link ZartConnectionError} when no answer came.
 * @module
 */

export type { EventMap, ExecutionTypes, TaskLike, UntypedTask } from "../core/task-types.js";
export type {
  CancelResult,
  EventDelivery,
  Execution,
  ExecutionError,
  ExecutionRef,
  ExecutionStatus,
  ExecutionSummary,
  ListOptions,
  ListPage,
  RerunRequest,
  RerunResult,
  ScheduledExecution,
  ScheduleOptions,
  Stats,
  WaitResult,
} from "./execution-types.js";
export { EXECUTION_STATUSES } from "./execution-types.js";
export type { TaskInfo, TaskList, WorkerInfo, WorkerList } from "./fleet-types.js";
export type { CreateScheduleRequest, OverlapPolicy, Schedule, ScheduleDeleted, ScheduleList } from "./schedule-types.js";
export { SchedulesApi } from "./schedules-api.js";
export type { ExecutionSteps, StepAttempt, StepError, StepKind, StepRecord, StepStatus, TruncatedValue } from "./step-types.js";
export { type ClientOptions, ZartConnectionError, ZartHttpError } from "./transport.js";
export { type PruneResult, ZartClient } from "./zart-client.js";
