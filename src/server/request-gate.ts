/**
 * The checks every request passes before its route runs, in the contract's order: authentication
 * (401) first, then the route (404, or 405 with `Allow`). Body checks (415, 413, 400) follow in
 * fastify's body parsing, and the route's own validation after that.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ZartError } from "../core/errors.js";
import { requiresToken, type TokenChecker } from "./auth.js";
import { sendError } from "./error-reply.js";
import type { RouteTable } from "./route-table.js";

export function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The path a request is judged by: the pattern of the route the router matched, since the router decodes
 * percent-escapes (`/%61pi/v1/stats` runs the `/api/v1/stats` route) and the raw URL would not name it.
 * An unmatched request is judged by its decoded path, so that it gets the same 401 as its plain spelling.
 */
function routedPath(request: FastifyRequest): string {
  const route = request.is404 ? undefined : request.routeOptions.url;
  if (route !== undefined) return route;
  const path = pathOf(request.url);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export class RequestGate {
  constructor(
    private readonly tokens: TokenChecker,
    private readonly routes: RouteTable,
    private readonly metricsPublic: boolean,
  ) {}

  /** Whether a request for `path` with this `Authorization` header passes the token check. */
  authorized(path: string, authorization: string | undefined): boolean {
    if (!this.tokens.enabled || !requiresToken(path, this.metricsPublic)) return true;
    return this.tokens.accepts(authorization);
  }

  /** Answers 401 and returns true when the request needs a token and lacks a valid one. */
  refuseUnauthorized(request: FastifyRequest, reply: FastifyReply): boolean {
    if (this.authorized(routedPath(request), request.headers.authorization)) return false;
    sendError(reply, new ZartError("unauthorized", "A valid bearer token is required"));
    return true;
  }

  /** Answers the request (401, 404 or 405) and returns true when it must not reach a route. */
  refuse(request: FastifyRequest, reply: FastifyReply): boolean {
    if (this.refuseUnauthorized(request, reply)) return true;
    if (!request.is404) return false;
    const path = pathOf(request.url);
    const allowed = this.routes.allowedMethods(path);
    if (allowed.length === 0) {
      sendError(reply, new ZartError("not_found", `No route for ${request.method} ${path.slice(0, 200)}`));
    } else {
      reply.header("allow", allowed.join(", "));
      sendError(reply, new ZartError("method_not_allowed", `${request.method} is not allowed here; use ${allowed.join(" or ")}`));
    }
    return true;
  }

  /** URLs the router cannot take apart (bad percent-encoding, over-long parameters). */
  answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    if (this.refuseUnauthorized(request, reply)) return;
    // Whatever sits where an execution id belongs and cannot be decoded names no execution.
    if (/^\/api\/v1\/(executions|events)\//.test(pathOf(request.url))) {
      sendError(reply, new ZartError("execution_not_found", "No execution found with that ID"));
    } else if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
      sendError(reply, new ZartError("not_found", "No such route"));
    } else {
      sendError(reply, new ZartError("invalid_request", "Malformed URL"));
    }
  }
}
