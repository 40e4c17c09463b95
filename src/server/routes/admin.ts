/**
 * `POST /api/v1/admin/prune` (operations.md §5, docs/retention.md): one prune round now, as `zart prune
 * --older-than D` sends it. A body that is not `{ "older_than": "<duration>" }` is the caller's mistake in a
 * parameter, like a bad query value: `400 invalid_request` (the body schema's own failures would be
 * `422 invalid_data`, which the contract keeps for data checked against a task's schema).
 */
import type { FastifyInstance } from "fastify";
import { ZartError } from "../../core/errors.js";
import type { ZartApi } from "../../engine/api.js";
import { PruneBody, PruneResponse } from "../operation-schemas.js";
import { described, errorCodes } from "../schemas.js";

/** What fastify itself may answer about a request body (openapi.ts adds 401, 405 and 500 to every operation). */
const BODY_ERRORS = ["invalid_json", "invalid_request", "payload_too_large", "unsupported_media_type"] as const;

export function adminRoutes(app: FastifyInstance, api: ZartApi): void {
  app.post<{ Body: PruneBody }>(
    "/api/v1/admin/prune",
    {
      schema: {
        summary: "Delete finished executions that ended longer ago than a duration, with their steps, attempts and events",
        description:
          "`completed`, `failed` and `cancelled` executions whose `completed_at` is older than `older_than` are deleted in small batches; their idempotency keys become free, and counts stay exact. An execution is kept while its parent or one of its children has not finished. While another process prunes the same store, the request waits for that round to end and then runs its own.",
        operationId: "pruneExecutions",
        tags: ["admin"],
        body: PruneBody,
        response: {
          200: described(PruneResponse, "Done: how many executions were deleted"),
          ...errorCodes(...BODY_ERRORS, "store_unavailable"),
        },
      },
      attachValidation: true,
    },
    async (request) => {
      if (request.validationError) throw new ZartError("invalid_request", request.validationError.message);
      return { pruned: await api.prune({ olderThan: request.body.older_than }) };
    },
  );
}
