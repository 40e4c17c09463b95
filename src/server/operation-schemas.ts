/**
 * Wire schemas of the operations routes (operations.md §1-§2): the step timeline, the task and worker
 * lists, retry and rerun. Same conventions as schemas.ts (TypeBox objects that validate, serialise and
 * become named OpenAPI components).
 */
import type { Static } from "typebox";
import { Type } from "../core/typebox.js";
import { EXECUTION_STATUSES } from "../core/types.js";
import { named, optionalBody } from "./schema-names.js";
import { Status } from "./schemas.js";

const Timestamp = Type.String({ format: "date-time", description: "RFC 3339, UTC, `Z` suffix" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** Step results and event payloads larger than this are replaced by {@link TruncatedValue} in the timeline. */
export const TIMELINE_VALUE_MAX_BYTES = 64 * 1024;

const StepError = named(
  "StepError",
  Type.Object(
    {
      message: Type.String(),
      name: Type.Optional(Type.String({ description: "The JavaScript error's name" })),
      code: Type.Optional(Type.String({ description: "The error's code, when it had one" })),
      stack: Type.Optional(Type.String({ description: "The error's stack trace (only here, never in an execution's `error`)" })),
    },
    { description: "An attempt's or a step's error" },
  ),
);
const NullableStepError = Type.Union([StepError, Type.Null()]);

const StepAttempt = named(
  "StepAttempt",
  Type.Object(
    {
      attempt: Type.Integer({ description: "Counts up across execution attempts" }),
      execution_attempt: Type.Integer({ description: "The execution attempt that made it" }),
      started_at: Timestamp,
      ended_at: NullableTimestamp,
      error: NullableStepError,
    },
    { description: "One attempt of a step: failed (`error` set) or the successful one (`error` null)" },
  ),
);

const AnyValue = Type.Unknown({
  description: 'Any JSON value; one larger than 64 KiB is shown as `{ "truncated": true, "bytes": n }` (the full value stays stored)',
});

export const TimelineStep = named(
  "TimelineStep",
  Type.Object(
    {
      name: Type.String(),
      kind: Type.Enum(["step", "sleep", "event", "child"]),
      status: Type.Enum(["running", "waiting", "completed", "failed"]),
      started_at: NullableTimestamp,
      completed_at: NullableTimestamp,
      duration_ms: Type.Union([Type.Integer(), Type.Null()]),
      attempts: Type.Array(StepAttempt, { description: "A step's attempts, failed and successful, across execution attempts" }),
      error: NullableStepError,
      result: Type.Optional(AnyValue),
      payload: Type.Optional(AnyValue),
      schema: Type.Optional(
        Type.Unknown({ description: "A waiting event wait's payload JSON Schema (deliveries are checked against it)" }),
      ),
      wake_at: Type.Optional(Timestamp),
      timeout_at: Type.Optional(Timestamp),
      retry_at: Type.Optional(Timestamp),
      child_execution_id: Type.Optional(Type.String()),
      copied_from: Type.Optional(Type.String({ description: "A record a rerun copied: the execution it was copied from" })),
      closed: Type.Optional(Type.Literal(true, { description: "A wait the execution no longer needed when it ended" })),
      discarded: Type.Optional(Type.Literal(true, { description: "A failure a retry set aside: the step runs again" })),
    },
    { description: "One step, sleep, event wait or child start" },
  ),
);
export type TimelineStep = Static<typeof TimelineStep>;

export const StepsResponse = named(
  "ExecutionSteps",
  Type.Object({
    execution_id: Type.String(),
    steps: Type.Array(TimelineStep, { description: "In the order the execution first reached them" }),
  }),
);
export type StepsResponse = Static<typeof StepsResponse>;

const StatusCounts = named(
  "TaskCounts",
  Type.Object(Object.fromEntries(EXECUTION_STATUSES.map((status) => [status, Type.Integer()])), {
    description: "The task's executions by status",
  }),
);

const TaskItem = named(
  "TaskInfo",
  Type.Object({
    name: Type.String(),
    input_schema: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
      description: "The task's input JSON Schema, or null when it declares none",
    }),
    workers: Type.Integer({ description: "Live workers serving it" }),
    last_seen_at: Type.Union([Timestamp, Type.Null()], { description: "The latest heartbeat of a worker serving it" }),
    counts: StatusCounts,
  }),
);
export type TaskItem = Static<typeof TaskItem>;

export const TasksResponse = named("TaskList", Type.Object({ tasks: Type.Array(TaskItem) }));

const WorkerItem = named(
  "WorkerInfo",
  Type.Object({
    worker_id: Type.String(),
    host: Type.String(),
    pid: Type.Integer(),
    tasks: Type.Array(Type.String()),
    concurrency: Type.Integer({ description: "Executions it runs at once at most" }),
    running: Type.Integer({ description: "Executions it ran at its last heartbeat" }),
    started_at: Timestamp,
    last_seen_at: Timestamp,
  }),
);
export type WorkerItem = Static<typeof WorkerItem>;

export const WorkersResponse = named("WorkerList", Type.Object({ workers: Type.Array(WorkerItem) }));

/** Retry takes no body; one that is sent must still be JSON within the size limit, and is ignored. */
export const RetryBody = named(
  "RetryRequest",
  optionalBody(Type.Unknown({ description: "Ignored. May be left out; when sent it must be JSON (415, 413 and 400 apply)" })),
);

export const RerunBody = named(
  "RerunRequest",
  optionalBody(
    Type.Object(
      {
        from_step: Type.Optional(
          Type.String({
            minLength: 1,
            description: "Copy the records made before this step was first reached; the new execution runs it for real",
          }),
        ),
        data: Type.Optional(
          Type.Object({}, { additionalProperties: true, description: "New input, checked against the task's input schema" }),
        ),
        idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      },
      { description: "All fields optional; an empty or missing body reruns from the start with the same data" },
    ),
  ),
);
export type RerunBody = Static<typeof RerunBody>;

export const RerunResponse = named(
  "RerunExecution",
  Type.Object({
    execution_id: Type.String(),
    task: Type.String(),
    status: Status,
    created_at: Timestamp,
    rerun_of: Type.Union([Type.String(), Type.Null()], {
      description: "The execution this one reruns (for an idempotent repeat: whatever the key's holder reruns, or null)",
    }),
  }),
);
export type RerunResponse = Static<typeof RerunResponse>;

export const PruneBody = named(
  "PruneRequest",
  Type.Object(
    {
      older_than: Type.String({
        description:
          'A duration: `ms`, `s`, `m`, `h`, `d` parts such as `"30d"`, `"12h"`, `"1h30m"`. Finished executions that ended longer ago than this are deleted',
      }),
    },
    { description: "A missing or malformed `older_than` is `400 invalid_request`; unknown fields are ignored" },
  ),
);
export type PruneBody = Static<typeof PruneBody>;

export const PruneResponse = named(
  "PruneResult",
  Type.Object({
    pruned: Type.Integer({ description: "Executions deleted (with their steps, attempts and events)" }),
  }),
);
