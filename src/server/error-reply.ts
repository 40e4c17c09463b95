/** Sends any error as the contract's error body; unexpected ones are logged with the request id. */
import type { FastifyReply } from "fastify";
import { mapError } from "./error-map.js";
import { isClosingError } from "./json-body.js";

export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body, unexpected, retryAfterSeconds } = mapError(error, reply.request.id);
  if (unexpected) {
    const what = status === 503 ? "the store cannot serve the request" : "internal error";
    reply.request.log.error({ err: error, reqId: reply.request.id }, what);
  }
  if (status === 401) reply.header("www-authenticate", "Bearer");
  if (retryAfterSeconds !== undefined) reply.header("retry-after", String(retryAfterSeconds));
  if (isClosingError(error)) reply.header("connection", "close");
  // Lets a client quote the id when reporting a problem; the log lines carry the same id.
  reply.header("x-request-id", reply.request.id);
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}
