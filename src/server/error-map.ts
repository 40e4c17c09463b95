/**
 * The one place where error codes become HTTP statuses, and where anything thrown (ours, fastify's,
 * unexpected) becomes the contract's error body. Unexpected errors never leak their text: the client
 * gets `internal_error` with the request id, and the log gets the details.
 */
import { type ErrorCode, ZartError } from "../core/errors.js";
import { sqliteUnavailable } from "../store/store-errors.js";
import type { ErrorBody } from "./schemas.js";

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  execution_not_found: 404,
  task_not_registered: 422,
  invalid_data: 422,
  not_waiting_for_event: 409,
  execution_already_exists: 409,
  execution_not_cancellable: 409,
  execution_not_retryable: 409,
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  internal_error: 500,
  store_unavailable: 503,
  overloaded: 503,
  schedule_not_found: 404,
  schedule_already_exists: 409,
};

/** Fastify's own request errors, by their code. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_NOT_FOUND: "not_found",
};

/** Seconds a client should wait before repeating a request refused with this code (`Retry-After`). */
export const RETRY_AFTER_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = { overloaded: 1 };

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** `Retry-After` in seconds, for refusals that a repeat after a pause can get past. */
  retryAfterSeconds?: number;
  /** True when the error was unexpected (a bug, or a store failing) and must be logged with its stack. */
  unexpected: boolean;
}

function mapped(code: ErrorCode, message: string, unexpected = false): MappedError {
  const retryAfterSeconds = RETRY_AFTER_BY_CODE[code];
  const result: MappedError = { status: STATUS_BY_CODE[code], body: { error: { code, message } }, unexpected };
  if (retryAfterSeconds !== undefined) result.retryAfterSeconds = retryAfterSeconds;
  return result;
}

function errorProp(error: unknown, key: "code" | "statusCode" | "message"): unknown {
  return typeof error === "object" && error !== null ? (error as Record<string, unknown>)[key] : undefined;
}

/** Maps anything thrown while handling a request to a status and the contract's error body. */
export function mapError(error: unknown, requestId: string): MappedError {
  if (error instanceof ZartError) {
    if (error.code === "internal_error") return internal(requestId);
    return mapped(error.code, error.message);
  }
  const code = errorProp(error, "code");
  if (typeof code === "string" && code in FASTIFY_CODES) {
    const ours = FASTIFY_CODES[code] as ErrorCode;
    return mapped(ours, publicMessage(ours));
  }
  if (error instanceof SyntaxError) return mapped("invalid_json", publicMessage("invalid_json"));
  // Any other 4xx fastify raises about the request itself (malformed header values and the like).
  const statusCode = errorProp(error, "statusCode");
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500 && statusCode !== 401) {
    const message = errorProp(error, "message");
    return {
      status: 400,
      body: { error: { code: "invalid_request", message: typeof message === "string" ? message : "Bad request" } },
      unexpected: false,
    };
  }
  // A full disk or a failing file under SQLite: the client gets 503 and the reason, the log the details.
  const unavailable = sqliteUnavailable(error);
  if (unavailable) return mapped("store_unavailable", unavailable.message, true);
  return internal(requestId);
}

function internal(requestId: string): MappedError {
  return mapped("internal_error", `Internal server error (request id ${requestId})`, true);
}

function publicMessage(code: ErrorCode): string {
  switch (code) {
    case "unsupported_media_type":
      return "Request bodies must be sent with Content-Type: application/json";
    case "payload_too_large":
      return "Request body is larger than the configured limit";
    case "invalid_json":
      return "Request body is not valid JSON";
    case "not_found":
      return "No such route";
    default:
      return "Bad request";
  }
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
