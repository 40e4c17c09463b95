import { WorkflowDefinitionError } from "./errors.js";

/**
 * Values that are recorded (step results, outputs, data, payloads) must come back from storage unchanged.
 * Plain JSON values do; `undefined` is treated as JSON treats it (a property holding it is left out, an
 * array element becomes null), and a recorded `undefined` itself replays as `undefined`. Everything JSON
 * would silently mangle or refuse - functions, BigInt, NaN and Infinity, symbols, class instances
 * (including Date and Map) and cycles - is refused with a message naming its path, so a replay never sees
 * something other than what the first run saw.
 */
export interface EncodedValue {
  /** The JSON text to record; null for `undefined`. */
  json: string | null;
  /** The value as a replay will return it (the first run gets this too, so both agree exactly). */
  value: unknown;
}

export function encodeValue(value: unknown, what: string, maxBytes: number): EncodedValue {
  if (value === undefined) return { json: null, value: undefined };
  const json = checkedJson(value, what, maxBytes);
  // Objects are read back from their JSON; of the primitives only -0 changes (JSON writes it as 0).
  const replayed = typeof value === "object" && value !== null ? JSON.parse(json) : Object.is(value, -0) ? 0 : value;
  return { json, value: replayed };
}

/**
 * The JSON text to record for values that cannot be undefined at the top (data, outputs): `undefined`
 * records null. Checked as `encodeValue` checks; nothing here reads the value back.
 */
export function encodeJson(value: unknown, what: string, maxBytes: number): string {
  return value === undefined ? "null" : checkedJson(value, what, maxBytes);
}

function checkedJson(value: unknown, what: string, maxBytes: number): string {
  const problem = findNonJson(value, "$", null);
  if (problem) throw new WorkflowDefinitionError("not_serializable", `${what} is not JSON-serialisable: ${problem}`);
  const json = JSON.stringify(value);
  // A UTF-16 code unit takes at most 3 bytes of UTF-8: a short text needs no byte count.
  if (json.length > maxBytes || (json.length * 3 > maxBytes && Buffer.byteLength(json) > maxBytes)) {
    throw new WorkflowDefinitionError(
      "payload_too_large",
      `${what} is ${Buffer.byteLength(json)} bytes of JSON, over the ${maxBytes}-byte limit`,
    );
  }
  return json;
}

/** A recorded value as the run that recorded it saw it. */
export function decodeValue(json: string | null): unknown {
  return json === null ? undefined : JSON.parse(json);
}

/** `seenSoFar`: the objects on the path to `value`; made at the first object (most values checked are primitives). */
function findNonJson(value: unknown, path: string, seenSoFar: Set<object> | null): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${path} is ${value}`;
    case "bigint":
      return `${path} is a BigInt`;
    case "function":
      return `${path} is a function`;
    case "symbol":
      return `${path} is a symbol`;
  }
  if (value === null) return null;
  const object = value as object;
  const seen = seenSoFar ?? new Set<object>();
  if (seen.has(object)) return `${path} is a circular reference`;
  if (Array.isArray(object)) {
    seen.add(object);
    for (let i = 0; i < object.length; i++) {
      const inner = findNonJson(object[i], `${path}[${i}]`, seen);
      if (inner) return inner;
    }
    seen.delete(object);
    return null;
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    const name = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
    return `${path} is a ${name} (only plain objects, arrays, strings, finite numbers, booleans and null are stored)`;
  }
  seen.add(object);
  for (const [key, inner] of Object.entries(object)) {
    const found = findNonJson(inner, `${path}.${key}`, seen);
    if (found) return found;
  }
  seen.delete(object);
  return null;
}
