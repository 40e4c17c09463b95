/**
 * The checks every request gets before it reaches the store, the same for the HTTP API and the engine
 * API: types, sizes, and values both stores can hold (names and keys as core/stored-text.ts says; times
 * within the range of a Date). Each failure is a ZartError with the contract's code.
 */
import { MAX_TIME_MS } from "../core/duration.js";
import { ZartError } from "../core/errors.js";
import { encodeJson } from "../core/json.js";
import { isStorableText, STORABLE_TEXT_RULE } from "../core/stored-text.js";
import { activeTraceparent, formatTraceparent, parseTraceparent } from "../core/trace-context.js";
import { IsDateTime } from "../core/typebox.js";
import { EXECUTION_STATUSES } from "../core/types.js";
import type { CreationOptions, ListQuery } from "../store/store.js";
import type { ScheduleRequest } from "./api.js";

export interface CheckedSchedule extends Pick<CreationOptions, "concurrency"> {
  task: string;
  data: object;
  dataJson: string;
  idempotencyKey: string | null;
  startAt: number | null;
  priority: number;
  concurrencyKey: string | undefined;
  traceparent: string | null;
}

/** Priorities are small integers: a claim reads them in order (see the claim indexes). */
const PRIORITY_LIMIT = 1_000_000;

export function checkedSchedule(request: ScheduleRequest, maxPayloadBytes: number): CheckedSchedule {
  if (typeof request !== "object" || request === null)
    throw new ZartError("invalid_data", "a request must be an object: { task, data, … }");
  const { task, data, idempotencyKey } = request;
  if (typeof task !== "string" || task.length === 0) throw new ZartError("invalid_data", "task must be a non-empty string");
  // A name no store can hold is no task's either: the task directory answers so without asking the store.
  if (task.length > 255) throw new ZartError("task_not_registered", `No task named ${JSON.stringify(task.slice(0, 80))} is registered`);
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ZartError("invalid_data", "data must be a JSON object");
  if (idempotencyKey !== undefined && !isKey(idempotencyKey)) {
    throw new ZartError("invalid_data", `idempotency_key must be a string of 1 to 255 characters ${STORABLE_TEXT_RULE}`);
  }
  const concurrencyKey = request.concurrencyKey;
  if (
    concurrencyKey !== undefined &&
    !(typeof concurrencyKey === "string" && withinChars(concurrencyKey, 255) && isStorableText(concurrencyKey))
  ) {
    throw new ZartError("invalid_data", `concurrency_key must be a string of at most 255 characters ${STORABLE_TEXT_RULE}`);
  }
  const priority = request.priority ?? 0;
  if (!Number.isInteger(priority) || Math.abs(priority) > PRIORITY_LIMIT) {
    throw new ZartError("invalid_data", `priority must be an integer from -${PRIORITY_LIMIT} to ${PRIORITY_LIMIT}`);
  }
  // The HTTP schema's date-time rule: Date.parse alone also reads "123" (a year) and local times.
  const given = request.startAt;
  const startAt =
    given === undefined || given === null ? null : typeof given === "string" && IsDateTime(given) ? Date.parse(given) : Number.NaN;
  if (startAt !== null && !(Number.isFinite(startAt) && Math.abs(startAt) <= MAX_TIME_MS)) {
    throw new ZartError("invalid_data", "start_at must be an RFC 3339 date-time");
  }
  // Called inside a span (an application's, or a parent execution's run starting a child): its trace.
  const traceparent = request.traceparent === undefined ? activeTraceparent() : checkedTraceparent(request.traceparent);
  let dataJson: string;
  try {
    dataJson = encodeJson(data, "data", maxPayloadBytes);
  } catch (error) {
    const code = (error as { code?: string }).code === "payload_too_large" ? "payload_too_large" : "invalid_data";
    throw new ZartError(code, (error as Error).message);
  }
  return { task, data, dataJson, idempotencyKey: idempotencyKey ?? null, startAt, priority, concurrencyKey, traceparent };
}

/** A caller's `traceparent`, by the rules the HTTP header is read by (stored as version 00), or null. */
function checkedTraceparent(value: string | null): string | null {
  if (value === null) return null;
  const context = typeof value === "string" ? parseTraceparent(value) : null;
  if (context === null) throw new ZartError("invalid_data", "traceparent must be a valid W3C trace context header value (or null)");
  return formatTraceparent(context);
}

/** An event's name and payload; an unknown name is simply not waited for. */
export function checkedEvent(eventName: string, payloadJson: string, maxPayloadBytes: number): void {
  if (typeof eventName !== "string" || eventName.length === 0 || !withinChars(eventName, 255) || !isStorableText(eventName)) {
    throw new ZartError("invalid_request", `event_name must be 1 to 255 characters ${STORABLE_TEXT_RULE}`);
  }
  if (typeof payloadJson === "string" && Buffer.byteLength(payloadJson) > maxPayloadBytes) {
    throw new ZartError("payload_too_large", `Event payload is over the ${maxPayloadBytes}-byte limit`);
  }
  // Stored as given and parsed by every replay: text that is not JSON would fail the execution at each
  // attempt. (The HTTP route's body parser has checked its text already; a library caller's is checked here.)
  if (!isJsonText(payloadJson)) throw new ZartError("invalid_json", 'Event payload must be JSON text (e.g. "null", "{}", "42")');
}

function isJsonText(text: unknown): boolean {
  if (typeof text !== "string") return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isKey(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && withinChars(value, 255) && isStorableText(value);
}

/** At most `max` characters (code points, as JSON Schema's maxLength counts them; `length` counts UTF-16 units). */
function withinChars(value: string, max: number): boolean {
  return value.length <= max || [...value].length <= max;
}

/** A list query from a library caller, as the stores take it (the HTTP route's schema checks its own). */
export function checkedListQuery(query: ListQuery): ListQuery {
  const { status, task, limit, offset, order } = query ?? ({} as ListQuery);
  const refuse = (what: string) => new ZartError("invalid_request", `list: ${what}`);
  if (status !== undefined && !(EXECUTION_STATUSES as readonly unknown[]).includes(status)) {
    throw refuse(`status must be one of ${EXECUTION_STATUSES.join(", ")}`);
  }
  if (task !== undefined && typeof task !== "string") throw refuse("task must be a string");
  if (!Number.isSafeInteger(limit) || limit < 1) throw refuse("limit must be a positive integer");
  if (!Number.isSafeInteger(offset) || offset < 0) throw refuse("offset must be an integer of 0 or more");
  if (order !== "asc" && order !== "desc") throw refuse('order must be "asc" or "desc"');
  return query;
}
