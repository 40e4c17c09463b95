/**
 * The web dashboard: `index.html` at `/` and at every page URL under `/ui/`, and its files under `/ui/`.
 * Every route is registered by its exact path (no wildcard), so an unknown `/ui/…` path gets the API's
 * own 404 and a known one with another method its 405. These routes never need a token: the page holds
 * no data and asks for the token itself before it calls `/api/v1`.
 *
 * Caching: nothing is content-addressed (no build step), so every response is `no-cache` with a strong
 * ETag; a reload revalidates each file with a 304 and transfers nothing that has not changed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Asset, DashboardAssets } from "../dashboard-assets.js";

/** Client-side pages: each serves index.html, whose script reads the URL and shows the page. */
const PAGE_PATHS = [
  "/",
  "/ui",
  "/ui/",
  "/ui/executions",
  "/ui/executions/:id",
  "/ui/start",
  "/ui/tasks",
  "/ui/workers",
  "/ui/schedules",
] as const;

/** Not in the OpenAPI document: these are not part of the API. */
const HIDDEN = { schema: { hide: true } };

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    .header("cross-origin-opener-policy", "same-origin")
    .header("cross-origin-resource-policy", "same-origin");
}

function send(request: FastifyRequest, reply: FastifyReply, file: Asset): FastifyReply {
  securityHeaders(reply).header("cache-control", "no-cache").header("etag", file.etag);
  if (request.headers["if-none-match"] === file.etag) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

export function dashboardRoutes(app: FastifyInstance, assets: DashboardAssets): void {
  for (const path of PAGE_PATHS) {
    app.get(path, HIDDEN, (request, reply) => {
      reply.header("content-security-policy", assets.contentSecurityPolicy);
      return send(request, reply, assets.index);
    });
  }
  for (const [path, file] of assets.files) {
    app.get(path, HIDDEN, (request, reply) => send(request, reply, file));
  }
}
