/** Operational routes: liveness, readiness, metrics, stats and the OpenAPI document. */
import type { FastifyInstance } from "fastify";
import { ZartError } from "../../core/errors.js";
import type { ZartApi } from "../../engine/api.js";
import type { ServerMetrics } from "../metrics.js";
import { described, errorCodes, HealthResponse, StatsResponse } from "../schemas.js";

/** `withApi` false: only the probes and /metrics (a worker's HTTP, which serves no API). */
export function opsRoutes(app: FastifyInstance, api: ZartApi, metrics: ServerMetrics, withApi = true): void {
  probeRoutes(app, api);
  metricsRoute(app, metrics);
  if (withApi) apiInfoRoutes(app, api);
}

/** Liveness and readiness: never behind a token (openapi.ts marks them `security: []` when tokens are on). */
function probeRoutes(app: FastifyInstance, api: ZartApi): void {
  app.get(
    "/healthz",
    {
      schema: {
        summary: "Liveness (no I/O)",
        operationId: "getHealth",
        tags: ["ops"],
        response: { 200: described(HealthResponse, "Alive") },
      },
    },
    async () => ({
      status: "ok",
    }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        summary: "Readiness: the store answers",
        description:
          "`unserved_tasks` (when any): tasks with pending executions that no live worker serves; they wait until one starts. The server is ready all the same.",
        operationId: "getReadiness",
        tags: ["ops"],
        response: { 200: described(HealthResponse, "The store answers"), ...errorCodes("store_unavailable") },
      },
    },
    async () => {
      try {
        await api.ready();
      } catch (error) {
        throw new ZartError("store_unavailable", `The store does not answer: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      const unserved = await api.unservedTasks().catch(() => []);
      return unserved.length === 0 ? { status: "ready" } : { status: "ready", unserved_tasks: unserved };
    },
  );
}

function metricsRoute(app: FastifyInstance, metrics: ServerMetrics): void {
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics",
        operationId: "getMetrics",
        tags: ["ops"],
        response: { 200: { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } } },
      },
    },
    async (_request, reply) => {
      const { contentType, text } = await metrics.render();
      return reply.type(contentType).send(text);
    },
  );
}

function apiInfoRoutes(app: FastifyInstance, api: ZartApi): void {
  app.get(
    "/api/v1/stats",
    {
      schema: {
        summary: "Executions by status",
        operationId: "getStats",
        tags: ["ops"],
        response: { 200: described(StatsResponse, "Executions by status") },
      },
    },
    async () => api.stats(),
  );

  app.get(
    "/api/v1/openapi.json",
    {
      schema: {
        summary: "This OpenAPI document",
        operationId: "getOpenApiDocument",
        tags: ["ops"],
        // Serialised with JSON.stringify: the document is built once and served rarely.
        response: { 200: { description: "OpenAPI 3 document", type: "object", additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  );
}
