/**
 * The wire schemas (TypeBox, so plain JSON Schema). The same objects validate requests
 * (`validation.ts`), drive response serialisation (fast-json-stringify) and generate the OpenAPI
 * document (@fastify/swagger; `openapi.ts` names them as components), so the three cannot drift apart.
 */
import type { Static } from "typebox";
import { ERROR_CODES, type ErrorCode } from "../core/errors.js";
import { Type } from "../core/typebox.js";
import { EXECUTION_STATUSES } from "../core/types.js";
import { EXECUTION_ID_PATTERN } from "../engine/execution-id.js";
import { RETRY_AFTER_BY_CODE, STATUS_BY_CODE } from "./error-map.js";
import { described, named, optionalBody, withRetryAfter } from "./schema-names.js";

export { described } from "./schema-names.js";

const Timestamp = Type.String({ format: "date-time", description: "RFC 3339, UTC, `Z` suffix" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
export const Status = named("ExecutionStatus", Type.Enum([...EXECUTION_STATUSES], { description: "Execution status" }));
const AnyJson = Type.Unknown({ description: "Any JSON value" });

/** The contract's error body, with any code. Routes declare narrower ones through {@link errorCodes}. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum([...ERROR_CODES]),
      message: Type.String(),
    }),
  },
  { $id: "ErrorResponse", title: "ErrorResponse" },
);
export type ErrorBody = Static<typeof ErrorResponse>;

export const ExecutionIdParams = Type.Object({
  id: Type.String({ pattern: EXECUTION_ID_PATTERN, description: "Execution id (`exec-` + 8–32 lowercase letters/digits)" }),
});
export type ExecutionIdParams = Static<typeof ExecutionIdParams>;

export const EventParams = Type.Object({
  id: Type.String({ pattern: EXECUTION_ID_PATTERN, description: "Execution id" }),
  event_name: Type.String({ minLength: 1, description: "Event name the execution waits for" }),
});
export type EventParams = Static<typeof EventParams>;

export const ScheduleBody = named(
  "ScheduleRequest",
  Type.Object(
    {
      task: Type.String({ description: "Name of a registered task" }),
      data: Type.Object(
        {},
        { additionalProperties: true, description: "The task's input (any JSON object); checked against the task's input schema" },
      ),
      idempotency_key: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 255,
          description: "Makes retries of this call safe: the same key and task answer 200 with the same execution",
        }),
      ),
      start_at: Type.Optional(
        Type.String({ format: "date-time", description: "Delayed start (RFC 3339): the execution stays pending until then" }),
      ),
      priority: Type.Optional(
        Type.Integer({
          minimum: -1_000_000,
          maximum: 1_000_000,
          description: "Higher first (default 0): claims take due work by priority, then due time",
        }),
      ),
      concurrency_key: Type.Optional(
        Type.String({ maxLength: 255, description: "Overrides the task's concurrency key (tasks that declare `concurrency`)" }),
      ),
    },
    { description: "Unknown fields are ignored" },
  ),
);
export type ScheduleBody = Static<typeof ScheduleBody>;

export const TraceHeaders = Type.Object({
  traceparent: Type.Optional(
    Type.String({
      description:
        "W3C trace context of the caller: stored with the execution, whose OpenTelemetry spans then join that trace. An invalid value is ignored, as the W3C spec says",
    }),
  ),
});

export const ScheduleResponse = named(
  "ScheduledExecution",
  Type.Object({
    execution_id: Type.String(),
    task: Type.String(),
    status: Status,
    created_at: Timestamp,
  }),
);
export type ScheduleResponse = Static<typeof ScheduleResponse>;

const ExecutionError = named(
  "ExecutionError",
  Type.Object(
    { message: Type.String(), step: NullableString, code: Type.Optional(Type.String()), name: Type.Optional(Type.String()) },
    { additionalProperties: true, description: "Why a failed execution failed" },
  ),
);

export const ExecutionResponse = named(
  "Execution",
  Type.Object({
    execution_id: Type.String(),
    task: Type.String(),
    status: Status,
    steps_completed: Type.Integer(),
    current_step: NullableString,
    waiting_for_event: NullableString,
    started_at: NullableTimestamp,
    completed_at: NullableTimestamp,
    output: AnyJson,
    error: Type.Union([ExecutionError, Type.Null()]),
    created_at: Timestamp,
    attempt: Type.Integer(),
    idempotency_key: NullableString,
    data: Type.Unknown({ description: "The execution's input, as it was scheduled" }),
    parent_execution_id: Type.Optional(Type.String({ description: "A child execution: the execution that started it" })),
    rerun_of: Type.Optional(Type.String({ description: "An execution created by a rerun: the execution it reruns" })),
    schedule_id: Type.Optional(Type.String({ description: "An execution started by a schedule's tick" })),
    priority: Type.Optional(Type.Integer({ description: "Claim priority, when not 0 (higher first)" })),
    concurrency_key: Type.Optional(Type.String({ description: "Its concurrency group, when its task has a limit" })),
    start_at: Type.Optional(Timestamp),
    buffered_events: Type.Optional(
      Type.Integer({ description: 'Events stored for later waits and not taken yet (tasks with `events: "buffered"`), when any' }),
    ),
  }),
);

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;
export const ListQuerystring = Type.Object({
  status: Type.Optional(Status),
  task: Type.Optional(Type.String({ maxLength: 255, pattern: "^[^\\u0000]*$", description: "Exact task name" })),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, default: LIST_LIMIT_DEFAULT, description: "At most 500: any larger integer is clamped to 500" }),
  ),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 })),
  order: Type.Optional(Type.Enum(["asc", "desc"], { default: "desc", description: "By (created_at, execution_id)" })),
});
export type ListQuerystring = Static<typeof ListQuerystring>;

export const ListItem = named(
  "ExecutionSummary",
  Type.Object({
    execution_id: Type.String(),
    task: Type.String(),
    status: Status,
    started_at: NullableTimestamp,
    created_at: Timestamp,
    completed_at: NullableTimestamp,
    current_step: NullableString,
    waiting_for_event: NullableString,
  }),
);
export type ListItem = Static<typeof ListItem>;

export const ListResponse = named(
  "ExecutionList",
  Type.Object({
    executions: Type.Array(ListItem),
    total: Type.Integer({ description: "Every execution that matches the filters" }),
    limit: Type.Integer({ description: "The limit applied (after clamping)" }),
    offset: Type.Integer(),
  }),
);
export type ListResponse = Static<typeof ListResponse>;

export const WAIT_TIMEOUT_DEFAULT_S = 30;
export const WAIT_TIMEOUT_MAX_S = 3600;
export const WaitQuerystring = Type.Object({
  timeout: Type.Optional(
    Type.Integer({ minimum: 0, default: WAIT_TIMEOUT_DEFAULT_S, description: "Seconds; above 3600 is clamped; 0 checks once" }),
  ),
});
export type WaitQuerystring = Static<typeof WaitQuerystring>;

export const WaitDoneResponse = named(
  "FinishedExecution",
  Type.Object({
    execution_id: Type.String(),
    status: Status,
    output: AnyJson,
    completed_at: NullableTimestamp,
    error: Type.Optional(ExecutionError),
  }),
);

export const WaitTimeoutResponse = named(
  "WaitTimedOut",
  Type.Object({
    execution_id: Type.String(),
    status: Status,
    message: Type.String(),
  }),
);
export type WaitTimeoutResponse = Static<typeof WaitTimeoutResponse>;

/** Cancel takes no body; one that is sent must still be JSON within the size limit, and is ignored. */
export const CancelBody = named(
  "CancelRequest",
  optionalBody(Type.Unknown({ description: "Ignored. May be left out; when sent it must be JSON (415, 413 and 400 apply)" })),
);

export const CancelResponse = named("CancelledExecution", Type.Object({ execution_id: Type.String(), status: Type.Literal("cancelled") }));
export type CancelResponse = Static<typeof CancelResponse>;

export const EventBody = named(
  "EventPayload",
  optionalBody(
    Type.Unknown({
      description: "Any JSON value: the event payload, checked against the wait's schema. An empty or missing body is the payload `null`",
    }),
  ),
);

export const EventResponse = named(
  "EventAccepted",
  Type.Object({
    status: Type.Union([Type.Literal("delivered"), Type.Literal("buffered")]),
    execution_id: Type.String(),
    event_name: Type.String(),
  }),
);
export type EventResponse = Static<typeof EventResponse>;

export const StatsResponse = named(
  "ExecutionCounts",
  Type.Object(Object.fromEntries(EXECUTION_STATUSES.map((status) => [status, Type.Integer()]))),
);

export const HealthResponse = named(
  "HealthStatus",
  Type.Object({
    status: Type.String(),
    unserved_tasks: Type.Optional(
      Type.Array(Type.Object({ task: Type.String(), pending: Type.Integer() }), {
        description: "Readiness only: tasks with pending executions that no live worker serves",
      }),
    ),
  }),
);

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable content",
  500: "Internal server error",
  503: "Service unavailable",
};

const pascal = (code: string) => code.replace(/(^|_)([a-z])/g, (_m, _sep, letter: string) => letter.toUpperCase());
const errorSchemas = new Map<string, object>();

/** The error body for one status: the contract's shape, with `code` limited to the codes given. */
export function errorSchema(codes: readonly ErrorCode[]): object {
  const ordered = ERROR_CODES.filter((code) => codes.includes(code));
  const joined = ordered.map(pascal).join("Or");
  const name = joined.endsWith("Error") ? joined : `${joined}Error`;
  let schema = errorSchemas.get(name);
  if (schema === undefined) {
    schema = named(name, Type.Object({ error: Type.Object({ code: Type.Enum(ordered), message: Type.String() }) }));
    errorSchemas.set(name, schema);
  }
  return schema;
}

/**
 * A route's error responses from the codes it can answer with: one response per status (statuses from
 * error-map.ts), each listing its codes. 401, 405 and 500 are added to every operation by the document
 * (openapi.ts), according to the server's configuration.
 */
export function errorCodes(...codes: ErrorCode[]): Record<number, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(STATUS_BY_CODE[code], [...(byStatus.get(STATUS_BY_CODE[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => {
      const response = described(errorSchema(list), `${STATUS_TEXT[status] ?? "Error"}: ${list.map((code) => `\`${code}\``).join(" or ")}`);
      return [status, list.some((code) => RETRY_AFTER_BY_CODE[code] !== undefined) ? withRetryAfter(response) : response];
    }),
  );
}
