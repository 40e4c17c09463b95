/**
 * Request validation from the route schemas in `schemas.ts`, compiled with TypeBox (no type
 * coercion: `"task": 5` is an error, not the string "5"). Failures become the contract's codes:
 * a bad body is `invalid_data` naming the field, a bad query parameter is `invalid_request`, and a
 * malformed execution id in the path is simply `execution_not_found`.
 */

import { ZartError } from "../core/errors.js";
import { describeSchemaErrors } from "../core/schema.js";
import { Compile } from "../core/typebox.js";

type JsonSchema = Record<string, unknown>;
type ValidationResult = { value: unknown } | { error: Error };
type Validator = (data: unknown) => ValidationResult;

function compileBody(schema: JsonSchema): Validator {
  const check = Compile(schema as Parameters<typeof Compile>[0]);
  return (data) => {
    if (check.Check(data)) return { value: data };
    return { error: new ZartError("invalid_data", describeSchemaErrors(check.Errors(data), "body", { schema })) };
  };
}

function integerProperties(schema: JsonSchema): Set<string> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return new Set(Object.keys(properties).filter((key) => properties[key]?.type === "integer"));
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * An integer's text as a number for the schema check. Past 2^53 a number is not exact, and past 1e308
 * it is Infinity (which is not an integer), so such values become +/- Number.MAX_VALUE: still an
 * integer, and beyond any bound, so `limit=999999999999999999999` is clamped like `limit=501` while a
 * huge `offset` still fails its maximum.
 */
function integerValue(text: string): number {
  const value = Number(text);
  if (Number.isSafeInteger(value)) return value;
  return text.startsWith("-") ? -Number.MAX_VALUE : Number.MAX_VALUE;
}

/**
 * Query values arrive as strings; integer parameters are converted here (strictly: digits only, so
 * `1.5`, `1e3`, ` 5` and `` are rejected) before the schema check. A repeated parameter is an error.
 */
function compileQuery(schema: JsonSchema): Validator {
  const check = Compile(schema as Parameters<typeof Compile>[0]);
  const integers = integerProperties(schema);
  return (data) => {
    const input = (data ?? {}) as Record<string, unknown>;
    const converted: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      const raw = input[key];
      if (Array.isArray(raw)) return { error: new ZartError("invalid_request", `${key} must be given once`) };
      if (integers.has(key)) {
        if (typeof raw !== "string" || !INTEGER_TEXT.test(raw)) {
          return { error: new ZartError("invalid_request", `${key} must be an integer`) };
        }
        converted[key] = integerValue(raw);
      } else {
        converted[key] = raw;
      }
    }
    if (check.Check(converted)) return { value: converted };
    return { error: new ZartError("invalid_request", describeSchemaErrors(check.Errors(converted), "query", { schema })) };
  };
}

/** A path id that is not a well-formed execution id names no execution: 404, not 400. */
function compileParams(schema: JsonSchema): Validator {
  const check = Compile(schema as Parameters<typeof Compile>[0]);
  return (data) => {
    if (check.Check(data)) return { value: data };
    const id = (data as Record<string, unknown> | null)?.id;
    const shown = typeof id === "string" ? id.slice(0, 64) : "";
    return { error: new ZartError("execution_not_found", `No execution found with ID ${shown}`) };
  };
}

export function compileValidator(input: { schema: unknown; httpPart?: string }): Validator {
  const schema = input.schema as JsonSchema;
  switch (input.httpPart) {
    case "querystring":
      return compileQuery(schema);
    case "params":
      return compileParams(schema);
    default:
      return compileBody(schema);
  }
}
