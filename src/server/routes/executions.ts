/** The execution routes: schedule, status, list, long-poll and cancel. */
import type { FastifyInstance } from "fastify";
import { traceparentHeader } from "../../core/trace-context.js";
import { isTerminal } from "../../core/types.js";
import type { ZartApi } from "../../engine/api.js";
import { type LongPolls, parkedWait } from "../long-poll.js";
import {
  CancelBody,
  CancelResponse,
  described,
  ExecutionIdParams,
  ExecutionResponse,
  errorCodes,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  ListQuerystring,
  ListResponse,
  ScheduleBody,
  ScheduleResponse,
  TraceHeaders,
  WAIT_TIMEOUT_DEFAULT_S,
  WAIT_TIMEOUT_MAX_S,
  WaitDoneResponse,
  WaitQuerystring,
  WaitTimeoutResponse,
} from "../schemas.js";
import { executionJson, listItem, scheduleResponse, waitDoneJson } from "../serialize.js";

export interface ExecutionRouteDeps {
  api: ZartApi;
  longPolls: LongPolls;
}

const JSON_TYPE = "application/json; charset=utf-8";
const TAGS = ["executions"];
/** What fastify itself may answer about a request body (openapi.ts adds 401, 405 and 500 to every operation). */
const BODY_ERRORS = ["invalid_json", "invalid_request", "payload_too_large", "unsupported_media_type"] as const;

export function executionRoutes(app: FastifyInstance, deps: ExecutionRouteDeps): void {
  scheduleRoute(app, deps.api);
  listRoute(app, deps.api);
  statusRoute(app, deps.api);
  waitRoute(app, deps.longPolls);
  cancelRoute(app, deps.api);
}

/** Schedule (201), or replay an idempotent request (200). */
function scheduleRoute(app: FastifyInstance, api: ZartApi): void {
  app.post<{ Body: ScheduleBody }>(
    "/api/v1/executions",
    {
      schema: {
        summary: "Schedule an execution",
        operationId: "scheduleExecution",
        tags: TAGS,
        body: ScheduleBody,
        headers: TraceHeaders,
        response: {
          200: described(ScheduleResponse, "Idempotent replay: the execution that already holds the key"),
          201: described(ScheduleResponse, "Created"),
          ...errorCodes(
            ...BODY_ERRORS,
            "task_not_registered",
            "invalid_data",
            "execution_already_exists",
            "overloaded",
            "store_unavailable",
          ),
        },
      },
    },
    async (request, reply) => {
      const { task, data, idempotency_key, start_at, priority, concurrency_key } = request.body;
      // The engine's default: a server whose worker runs the task and has a slot free starts the execution
      // here at once when nothing older is queued; it then answers `running` (or how it ended, when it
      // ended in its first write) instead of `pending`.
      // A valid W3C `traceparent` header is stored: the execution's spans join the caller's trace.
      const traceparent = traceparentHeader(request.headers.traceparent) ?? undefined;
      const { execution, created } = await api.schedule({
        task,
        data,
        idempotencyKey: idempotency_key,
        startAt: start_at,
        priority,
        concurrencyKey: concurrency_key,
        traceparent,
      });
      request.executionId = execution.id;
      return reply.code(created ? 201 : 200).send(scheduleResponse(execution));
    },
  );
}

/** List with filters, a total and a stable order. */
function listRoute(app: FastifyInstance, api: ZartApi): void {
  app.get<{ Querystring: ListQuerystring }>(
    "/api/v1/executions",
    {
      schema: {
        summary: "List executions",
        operationId: "listExecutions",
        tags: TAGS,
        querystring: ListQuerystring,
        response: { 200: described(ListResponse, "One page of matching executions"), ...errorCodes("invalid_request") },
      },
    },
    async (request) => {
      const query = request.query;
      const limit = Math.min(query.limit ?? LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX);
      const offset = query.offset ?? 0;
      const result = await api.list({ status: query.status, task: query.task, limit, offset, order: query.order ?? "desc" });
      return { executions: result.executions.map(listItem), total: result.total, limit, offset };
    },
  );
}

/** One execution's status. */
function statusRoute(app: FastifyInstance, api: ZartApi): void {
  app.get<{ Params: ExecutionIdParams }>(
    "/api/v1/executions/:id",
    {
      schema: {
        summary: "Execution status",
        operationId: "getExecution",
        tags: TAGS,
        params: ExecutionIdParams,
        response: { 200: described(ExecutionResponse, "The execution"), ...errorCodes("execution_not_found") },
      },
    },
    async (request, reply) => {
      const execution = await api.get(request.params.id);
      return reply.type(JSON_TYPE).send(executionJson(execution));
    },
  );
}

/** Long-poll until the execution ends (200) or the timeout passes (202). */
function waitRoute(app: FastifyInstance, longPolls: LongPolls): void {
  app.get<{ Params: ExecutionIdParams; Querystring: WaitQuerystring }>(
    "/api/v1/executions/:id/wait",
    {
      schema: {
        summary: "Long-poll until the execution ends",
        operationId: "waitForExecution",
        tags: TAGS,
        params: ExecutionIdParams,
        querystring: WaitQuerystring,
        response: {
          200: described(WaitDoneResponse, "The execution ended (completed, failed or cancelled)"),
          202: described(WaitTimeoutResponse, "Timeout reached; the execution is still running"),
          ...errorCodes("invalid_request", "execution_not_found"),
        },
      },
    },
    // Not an async function, so no frame of it stays suspended while the poll is open (see long-poll.ts).
    // A parked poll arrives here with its wait already over.
    (request, reply) => {
      const seconds = Math.min(request.query.timeout ?? WAIT_TIMEOUT_DEFAULT_S, WAIT_TIMEOUT_MAX_S);
      const waited = parkedWait(request.raw) ?? longPolls.wait(request.params.id, seconds * 1000, reply.raw);
      return waited.then((execution) => {
        if (isTerminal(execution.status)) return reply.type(JSON_TYPE).send(waitDoneJson(execution));
        return reply.code(202).send({
          execution_id: execution.id,
          status: execution.status,
          message: "Timeout reached. Execution is still running.",
        });
      });
    },
  );
}

/** Cancel; idempotent for an execution already cancelled. */
function cancelRoute(app: FastifyInstance, api: ZartApi): void {
  app.post<{ Params: ExecutionIdParams }>(
    "/api/v1/executions/:id/cancel",
    {
      schema: {
        summary: "Cancel an execution",
        operationId: "cancelExecution",
        tags: TAGS,
        params: ExecutionIdParams,
        body: CancelBody,
        response: {
          200: described(CancelResponse, "Cancelled (also when it already was)"),
          ...errorCodes(...BODY_ERRORS, "execution_not_found", "execution_not_cancellable"),
        },
      },
    },
    async (request) => {
      const execution = await api.cancel(request.params.id);
      return { execution_id: execution.id, status: "cancelled" as const };
    },
  );
}
