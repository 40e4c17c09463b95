/**
 * Cron schedules: `POST/GET /api/v1/schedules`, `GET/DELETE /api/v1/schedules/:id`,
 * `POST /api/v1/schedules/:id/pause|resume` (operations.md §5; the shapes are src/client/schedule-types.ts).
 * Same auth, error shape and check order as the execution routes: the body's types (422 `invalid_data`),
 * then the schedule's values, the task (422 `task_not_registered`) and its data (422 `invalid_data`).
 */
import type { FastifyInstance } from "fastify";
import type { ScheduleApi } from "../../engine/schedules/schedule-api.js";
import {
  CreateScheduleBody,
  ScheduleActionBody,
  ScheduleDeletedResponse,
  ScheduleIdParams,
  ScheduleListResponse,
  ScheduleResponse,
  scheduleJson,
} from "../schedule-schemas.js";
import { described, errorCodes } from "../schemas.js";

const TAGS = ["schedules"];
/** What fastify itself may answer about a request body (openapi.ts adds 401, 405 and 500 to every operation). */
const BODY_ERRORS = ["invalid_json", "invalid_request", "payload_too_large", "unsupported_media_type"] as const;

export function scheduleRoutes(app: FastifyInstance, schedules: ScheduleApi): void {
  app.post<{ Body: CreateScheduleBody }>(
    "/api/v1/schedules",
    {
      schema: {
        summary: "Create a schedule",
        operationId: "createSchedule",
        tags: TAGS,
        body: CreateScheduleBody,
        response: {
          201: described(ScheduleResponse, "Created"),
          ...errorCodes(...BODY_ERRORS, "invalid_data", "task_not_registered", "schedule_already_exists"),
        },
      },
    },
    async (request, reply) => reply.code(201).send(scheduleJson(await schedules.create(request.body))),
  );

  app.get(
    "/api/v1/schedules",
    {
      schema: {
        summary: "List schedules",
        operationId: "listSchedules",
        tags: TAGS,
        response: { 200: described(ScheduleListResponse, "Every schedule, by id, with its next fire times") },
      },
    },
    async () => ({ schedules: (await schedules.list()).map(scheduleJson) }),
  );

  app.get<{ Params: ScheduleIdParams }>(
    "/api/v1/schedules/:id",
    {
      schema: {
        summary: "A schedule and its next fire times",
        operationId: "getSchedule",
        tags: TAGS,
        params: ScheduleIdParams,
        response: { 200: described(ScheduleResponse, "The schedule"), ...errorCodes("schedule_not_found") },
      },
    },
    async (request) => scheduleJson(await schedules.get(request.params.id)),
  );

  app.delete<{ Params: ScheduleIdParams }>(
    "/api/v1/schedules/:id",
    {
      schema: {
        summary: "Delete a schedule (its executions stay)",
        operationId: "deleteSchedule",
        tags: TAGS,
        params: ScheduleIdParams,
        response: { 200: described(ScheduleDeletedResponse, "Deleted"), ...errorCodes("schedule_not_found") },
      },
    },
    async (request) => {
      await schedules.delete(request.params.id);
      return { schedule_id: request.params.id, deleted: true as const };
    },
  );

  for (const action of ["pause", "resume"] as const) {
    app.post<{ Params: ScheduleIdParams }>(
      `/api/v1/schedules/:id/${action}`,
      {
        schema: {
          summary: action === "pause" ? "Pause a schedule: no ticks until resumed" : "Resume a schedule from its next tick after now",
          operationId: `${action}Schedule`,
          tags: TAGS,
          params: ScheduleIdParams,
          body: ScheduleActionBody,
          response: {
            200: described(
              ScheduleResponse,
              action === "pause" ? "Paused (also when it already was)" : "Active (also when it already was)",
            ),
            ...errorCodes(...BODY_ERRORS, "schedule_not_found"),
          },
        },
      },
      async (request) => scheduleJson(await schedules[action](request.params.id)),
    );
  }
}
