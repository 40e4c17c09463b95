/**
 * The wire schemas (TypeBox, so plain JSON Schema). The same objects validate requests
 * (`validation.ts`), drive response serialisation (fast-json-stringify) and generate the OpenAPI
 * document (@fastify/swagger), so the three cannot drift apart.
 */
import { type Static, Type } from "typebox";
import { ERROR_CODES } from "../core/errors.js";
import { EXECUTION_STATUSES } from "../core/types.js";

export const EXECUTION_ID_PATTERN = "^exec-[a-z0-9]{8,32}$";
export const EXECUTION_ID_REGEX = new RegExp(EXECUTION_ID_PATTERN);

const Timestamp = Type.String({ format: "date-time", description: "RFC 3339, UTC, `Z` suffix" });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Status = Type.Enum([...EXECUTION_STATUSES], { description: "Execution status" });
const AnyJson = Type.Unknown({ description: "Any JSON value" });

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

/** Schema reference used by every route's error responses (registered once with `addSchema`). */
export const ErrorRef = Type.Ref("ErrorResponse");

export const ExecutionIdParams = Type.Object({
  id: Type.String({ pattern: EXECUTION_ID_PATTERN, description: "Execution id (`exec-` + 8–32 lowercase letters/digits)" }),
});
export type ExecutionIdParams = Static<typeof ExecutionIdParams>;

export const EventParams = Type.Object({
  id: Type.String({ pattern: EXECUTION_ID_PATTERN, description: "Execution id" }),
  event_name: Type.String({ minLength: 1, description: "Event name the execution waits for" }),
});
export type EventParams = Static<typeof EventParams>;

export const ScheduleBody = Type.Object(
  {
    task: Type.String({ description: "Name of a registered task" }),
    data: Type.Object({}, { description: "The task's input; checked against the task's input schema" }),
    idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { description: "Unknown fields are ignored" },
);
export type ScheduleBody = Static<typeof ScheduleBody>;

export const ScheduleResponse = Type.Object({
  execution_id: Type.String(),
  task: Type.String(),
  status: Status,
  created_at: Timestamp,
});
export type ScheduleResponse = Static<typeof ScheduleResponse>;

export const ExecutionError = Type.Object(
  { message: Type.String(), step: NullableString, code: Type.Optional(Type.String()), name: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

export const ExecutionResponse = Type.Object({
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
});

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;
export const ListQuerystring = Type.Object({
  status: Type.Optional(Status),
  task: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, default: LIST_LIMIT_DEFAULT, description: "Above 500 is clamped to 500" })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 })),
  order: Type.Optional(Type.Enum(["asc", "desc"], { default: "desc", description: "By (created_at, execution_id)" })),
});
export type ListQuerystring = Static<typeof ListQuerystring>;

export const ListItem = Type.Object({
  execution_id: Type.String(),
  task: Type.String(),
  status: Status,
  started_at: NullableTimestamp,
  created_at: Timestamp,
  completed_at: NullableTimestamp,
  current_step: NullableString,
  waiting_for_event: NullableString,
});
export type ListItem = Static<typeof ListItem>;

export const ListResponse = Type.Object({
  executions: Type.Array(ListItem),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});
export type ListResponse = Static<typeof ListResponse>;

export const WAIT_TIMEOUT_DEFAULT_S = 30;
export const WAIT_TIMEOUT_MAX_S = 3600;
export const WaitQuerystring = Type.Object({
  timeout: Type.Optional(
    Type.Integer({ minimum: 0, default: WAIT_TIMEOUT_DEFAULT_S, description: "Seconds; above 3600 is clamped; 0 checks once" }),
  ),
});
export type WaitQuerystring = Static<typeof WaitQuerystring>;

export const WaitDoneResponse = Type.Object({
  execution_id: Type.String(),
  status: Status,
  output: AnyJson,
  completed_at: NullableTimestamp,
  error: Type.Optional(ExecutionError),
});

export const WaitTimeoutResponse = Type.Object({
  execution_id: Type.String(),
  status: Status,
  message: Type.String(),
});
export type WaitTimeoutResponse = Static<typeof WaitTimeoutResponse>;

export const CancelResponse = Type.Object({ execution_id: Type.String(), status: Type.Literal("cancelled") });
export type CancelResponse = Static<typeof CancelResponse>;

export const EventBody = Type.Unknown({
  description: "Any JSON value: the event payload (an empty body is `null`); checked against the wait's schema",
});

export const EventResponse = Type.Object({
  status: Type.Literal("delivered"),
  execution_id: Type.String(),
  event_name: Type.String(),
});
export type EventResponse = Static<typeof EventResponse>;

export const StatsResponse = Type.Object(Object.fromEntries(EXECUTION_STATUSES.map((status) => [status, Type.Integer()])));

export const HealthResponse = Type.Object({ status: Type.String() });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "invalid_json or invalid_request",
  401: "unauthorized (a token is configured and the request lacks a valid one)",
  404: "execution_not_found",
  405: "method_not_allowed",
  409: "conflict (see the error code)",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "invalid_data or task_not_registered",
  503: "store_unavailable",
};

/** Error responses for a route's OpenAPI entry and serialiser: the shared error shape, described per status. */
export function errorResponses(...statuses: number[]): Record<number, Record<string, unknown>> {
  return Object.fromEntries(statuses.map((status) => [status, { ...ErrorRef, description: ERROR_DESCRIPTIONS[status] ?? "error" }]));
}

/** A response schema with the description OpenAPI shows for it. */
export function described<T extends object>(schema: T, description: string): T & { description: string } {
  return { ...schema, description };
}
