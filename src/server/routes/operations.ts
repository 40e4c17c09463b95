/**
 * The routes for operating executions (operations.md §1-§2): the step timeline, the task and worker
 * lists, retry in place and rerun as a new execution.
 */
import type { FastifyInstance } from "fastify";
import type { ZartApi } from "../../engine/api.js";
import { RerunBody, RerunResponse, RetryBody, StepsResponse, TasksResponse, WorkersResponse } from "../operation-schemas.js";
import { stepsJson, taskJson, workerJson } from "../operations-json.js";
import { described, ExecutionIdParams, ExecutionResponse, errorCodes } from "../schemas.js";
import { executionJson, isoTime } from "../serialize.js";

const JSON_TYPE = "application/json; charset=utf-8";
/** What fastify itself may answer about a request body (openapi.ts adds 401, 405 and 500 to every operation). */
const BODY_ERRORS = ["invalid_json", "invalid_request", "payload_too_large", "unsupported_media_type"] as const;

export function operationRoutes(app: FastifyInstance, api: ZartApi): void {
  stepsRoute(app, api);
  fleetRoutes(app, api);
  retryRoute(app, api);
  rerunRoute(app, api);
}

function stepsRoute(app: FastifyInstance, api: ZartApi): void {
  app.get<{ Params: ExecutionIdParams }>(
    "/api/v1/executions/:id/steps",
    {
      schema: {
        summary: "Every step, sleep, event wait and child start of an execution, with every attempt",
        operationId: "getExecutionSteps",
        tags: ["executions"],
        params: ExecutionIdParams,
        response: { 200: described(StepsResponse, "The step timeline"), ...errorCodes("execution_not_found") },
      },
    },
    async (request) => stepsJson(await api.steps(request.params.id)),
  );
}

function fleetRoutes(app: FastifyInstance, api: ZartApi): void {
  app.get(
    "/api/v1/tasks",
    {
      schema: {
        summary: "Tasks a live worker serves or that have executions",
        operationId: "listTasks",
        tags: ["ops"],
        response: { 200: described(TasksResponse, "Tasks by name") },
      },
    },
    async () => ({ tasks: (await api.taskList()).map(taskJson) }),
  );

  app.get(
    "/api/v1/workers",
    {
      schema: {
        summary: "Workers heard from within two lease periods",
        operationId: "listWorkers",
        tags: ["ops"],
        response: { 200: described(WorkersResponse, "Live workers by id") },
      },
    },
    async () => ({ workers: (await api.workers()).map(workerJson) }),
  );
}

/** Resume a failed or cancelled execution in place; answers its status body (as GET /executions/:id). */
function retryRoute(app: FastifyInstance, api: ZartApi): void {
  app.post<{ Params: ExecutionIdParams }>(
    "/api/v1/executions/:id/retry",
    {
      schema: {
        summary: "Retry a failed or cancelled execution in place",
        operationId: "retryExecution",
        tags: ["executions"],
        params: ExecutionIdParams,
        body: RetryBody,
        response: {
          200: described(ExecutionResponse, "Resumed: the execution, now pending with its next attempt"),
          ...errorCodes(...BODY_ERRORS, "execution_not_found", "execution_not_retryable"),
        },
      },
    },
    async (request, reply) => {
      const execution = await api.retry(request.params.id);
      return reply.type(JSON_TYPE).send(executionJson(execution));
    },
  );
}

/** A new execution of the same task, from the start or from a step (201; 200 for an idempotent repeat). */
function rerunRoute(app: FastifyInstance, api: ZartApi): void {
  app.post<{ Params: ExecutionIdParams; Body: RerunBody }>(
    "/api/v1/executions/:id/rerun",
    {
      schema: {
        summary: "Rerun an execution as a new one, from the start or from a step",
        operationId: "rerunExecution",
        tags: ["executions"],
        params: ExecutionIdParams,
        body: RerunBody,
        response: {
          200: described(RerunResponse, "Idempotent replay: the execution that already holds the key"),
          201: described(RerunResponse, "Created"),
          ...errorCodes(
            ...BODY_ERRORS,
            "execution_not_found",
            "task_not_registered",
            "invalid_data",
            "execution_already_exists",
            "overloaded",
            "store_unavailable",
          ),
        },
      },
      // An empty or missing body is a rerun from the start with the same data.
      preValidation: (request, _reply, done) => {
        if (request.body === undefined || request.body === null) request.body = {};
        done();
      },
      // The old execution is looked for before the body is judged (docs/operations.md, "Order of checks").
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError) {
        await api.get(request.params.id);
        throw request.validationError;
      }
      const { from_step, data, idempotency_key } = request.body;
      const { execution, created } = await api.rerun(request.params.id, {
        fromStep: from_step,
        data,
        idempotencyKey: idempotency_key,
      });
      request.executionId = execution.id;
      return reply.code(created ? 201 : 200).send({
        execution_id: execution.id,
        task: execution.task,
        status: execution.status,
        created_at: isoTime(execution.createdAt),
        rerun_of: execution.rerunOf,
      });
    },
  );
}
