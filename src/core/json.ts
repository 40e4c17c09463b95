import { WorkflowDefinitionError } from "./errors.js";

/**
 * Serialises a value that must survive a round trip through storage unchanged. JSON.stringify silently
 * drops functions and `undefined`, turns NaN into null and throws on BigInt and cycles; a durable engine
 * must refuse such values with a clear message instead of recording something else.
 */
export function encodeJson(value: unknown, what: string, maxBytes: number): string {
  const problem = findNonJson(value, "$", new Set());
  if (problem) throw new WorkflowDefinitionError("not_serializable", `${what} is not JSON-serialisable: ${problem}`);
  const text = value === undefined ? "null" : JSON.stringify(value);
  if (text.length > maxBytes || Buffer.byteLength(text) > maxBytes) {
    throw new WorkflowDefinitionError(
      "payload_too_large",
      `${what} is ${Buffer.byteLength(text)} bytes of JSON, over the ${maxBytes}-byte limit`,
    );
  }
  return text;
}

function findNonJson(value: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${path} is ${value}`;
    case "undefined":
      return path === "$" ? null : `${path} is undefined`;
    case "bigint":
      return `${path} is a BigInt`;
    case "function":
      return `${path} is a function`;
    case "symbol":
      return `${path} is a symbol`;
  }
  if (value === null) return null;
  const object = value as object;
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

export function decodeJson<T = unknown>(text: string | null): T {
  return (text === null ? null : JSON.parse(text)) as T;
}
