/**
 * Input and payload validation. A schema is JSON Schema (TypeBox types are JSON Schema) or any
 * Standard Schema library (zod, valibot, arktype…). JSON Schema is also stored with the task
 * registration, so an API-only server can check `data` for tasks it does not host.
 */
import type { Static } from "typebox";
import { Compile, Meta } from "./typebox.js";

/**
 * The subset of the Standard Schema v1 interface we use (zod, valibot and arktype implement it). `types`
 * exists only for the type checker: it carries the schema's input and output types.
 */
export interface StandardSchemaLike {
  "~standard": {
    version: number;
    validate(value: unknown): StandardResult | Promise<StandardResult>;
    jsonSchema?: { input?: (options: { target: string }) => unknown };
    types?: { readonly input: unknown; readonly output: unknown } | undefined;
  };
}
type StandardResult =
  | { value: unknown; issues?: undefined }
  | { issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<unknown> }> };

/** JSON Schema (any object: TypeBox types are JSON Schema objects) or a Standard Schema validator. */
export type SchemaInput = object | StandardSchemaLike;

/**
 * The type of the values a schema accepts, for `data` and event payloads:
 * - a Standard Schema (zod, valibot, arktype): its **input** type. Values reach the workflow as they were
 *   sent and checked, never as the library's parsed output (an API-only server cannot run a transform or
 *   fill a default), so the input type is the one that is true at run time; for schemas without
 *   transforms or defaults the two are the same;
 * - a TypeBox type, or a JSON Schema object literal (`as const`, or written inline where `defineTask` and
 *   `waitForEvent` read it as a literal): TypeBox's `Static`, which reads both;
 * - anything else (a schema typed only as `object`): `unknown`.
 */
export type InferSchema<S> = S extends { readonly "~standard": { readonly types?: infer T } }
  ? T extends { readonly input: infer I }
    ? I
    : unknown
  : S extends object
    ? object extends S
      ? unknown
      : Static<S>
    : unknown;

export type Validation = { ok: true } | { ok: false; message: string };

export interface CompiledSchema {
  /** JSON Schema text when the schema is (or converts to) JSON Schema; null otherwise. */
  readonly jsonSchemaText: string | null;
  /** Checks a value; `label` prefixes the failing path in the message (e.g. `data`). */
  validate(value: unknown, label: string): Promise<Validation>;
}

/** Some libraries' schemas are functions (arktype's types are callable). */
function isStandard(schema: SchemaInput): schema is StandardSchemaLike {
  return (typeof schema === "object" || typeof schema === "function") && schema !== null && "~standard" in schema;
}

type JsonValidator = ReturnType<typeof Compile>;
const compiledByText = new Map<string, JsonValidator>();

function jsonValidator(schemaText: string): JsonValidator {
  let validator = compiledByText.get(schemaText);
  if (!validator) {
    validator = Compile(JSON.parse(schemaText) as Parameters<typeof Compile>[0]);
    // Schemas come from task definitions, so this cache stays small; the bound only guards misuse.
    if (compiledByText.size > 1000) compiledByText.clear();
    compiledByText.set(schemaText, validator);
  }
  return validator;
}

/** Validates against JSON Schema text; returns an error message naming the failing field, or null. */
export function checkJsonSchema(schemaText: string, value: unknown, label: string): string | null {
  const validator = jsonValidator(schemaText);
  if (validator.Check(value)) return null;
  return describeSchemaErrors(validator.Errors(value), label, { prefixFields: true });
}

interface SchemaError {
  instancePath: string;
  schemaPath?: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

/**
 * A one-line message naming the first failing field of a TypeBox check, e.g. `data.user.email is
 * required` or `task must be string`. A failure of the value itself names `root`; a field is named by its
 * dotted path, after `root.` when `prefixFields` is set. With the `schema` checked, a top-level field that
 * is an enum lists the allowed values. A key the schema does not allow is `<key> is an unknown key`.
 */
export function describeSchemaErrors(
  errors: Iterable<unknown>,
  root: string,
  options: { prefixFields?: boolean; schema?: object } = {},
): string {
  const first = [...errors][0] as SchemaError | undefined;
  if (!first) return `${root} is invalid`;
  const path = first.instancePath.replace(/^\//, "").replaceAll("/", ".");
  const requiredProperties = first.keyword === "required" ? first.params.requiredProperties : undefined;
  const missing = Array.isArray(requiredProperties) ? String(requiredProperties[0]) : null;
  const inner = missing === null ? path : path === "" ? missing : `${path}.${missing}`;
  let field = inner === "" ? root : inner;
  if (options.prefixFields) field = `${root}${first.instancePath.replaceAll("/", ".")}${missing === null ? "" : `.${missing}`}`;
  if (missing !== null) return `${field} is required`;
  // A key that `additionalProperties: false` refuses comes first as the `false` schema it met.
  if (first.keyword === "boolean" && first.schemaPath?.endsWith("/additionalProperties")) return `${field} is an unknown key`;
  const properties = (options.schema as { properties?: Record<string, { enum?: unknown }> } | undefined)?.properties;
  const allowed = path === "" ? undefined : properties?.[path]?.enum;
  if (Array.isArray(allowed)) return `${field} must be one of ${allowed.join(", ")}`;
  return `${field} ${first.message}`;
}

type MetaUri = keyof typeof Meta;
const DEFAULT_META: MetaUri = "https://json-schema.org/draft/2020-12/schema";
const metaValidators = new Map<MetaUri, JsonValidator>();

/**
 * Checks a JSON Schema against its draft's meta-schema (the one its `$schema` names, else 2020-12, the
 * draft TypeBox writes): a misspelt `type` or a `required` that is not an array would otherwise be a
 * schema that silently checks nothing. Throws a TypeError naming the first wrong keyword.
 */
function checkSchemaItself(schemaText: string): void {
  const schema = JSON.parse(schemaText) as { $schema?: unknown };
  const uri = metaUri(schema.$schema);
  let validator = metaValidators.get(uri);
  if (!validator) {
    validator = Compile(Meta[uri] as Parameters<typeof Compile>[0]);
    metaValidators.set(uri, validator);
  }
  if (validator.Check(schema)) return;
  const first = [...validator.Errors(schema)][0] as SchemaError | undefined;
  const where = first === undefined || first.instancePath === "" ? "the schema" : first.instancePath.slice(1).replaceAll("/", ".");
  const allowed = first?.params.allowedValues;
  const detail = Array.isArray(allowed) ? `must be one of ${allowed.join(", ")}` : (first?.message ?? "is invalid");
  throw new TypeError(`not a valid JSON Schema: ${where} ${detail}`);
}

function metaUri(declared: unknown): MetaUri {
  if (typeof declared !== "string") return DEFAULT_META;
  for (const uri of [declared, `${declared}#`]) if (uri in Meta) return uri as MetaUri;
  return DEFAULT_META;
}

export function compileSchema(schema: SchemaInput): CompiledSchema {
  if (isStandard(schema)) {
    const standard = schema["~standard"];
    let jsonSchemaText: string | null = null;
    try {
      const converted = standard.jsonSchema?.input?.({ target: "draft-2020-12" });
      if (converted && typeof converted === "object") jsonSchemaText = JSON.stringify(converted);
    } catch {
      jsonSchemaText = null;
    }
    return {
      jsonSchemaText,
      async validate(value, label) {
        const result = await standard.validate(value);
        if (!result.issues) return { ok: true };
        const issue = result.issues[0];
        const path = (issue?.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? String(p.key) : String(p)));
        return { ok: false, message: `${[label, ...path].join(".")}: ${issue?.message ?? "invalid"}` };
      },
    };
  }
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    throw new TypeError("A schema must be a JSON Schema object, a TypeBox type or a Standard Schema (zod, valibot, arktype…)");
  }
  const jsonSchemaText = JSON.stringify(schema);
  // Checked and compiled now, so a broken schema fails at definition time; a text seen before passed both.
  if (!compiledByText.has(jsonSchemaText)) checkSchemaItself(jsonSchemaText);
  jsonValidator(jsonSchemaText);
  return {
    jsonSchemaText,
    async validate(value, label) {
      const message = checkJsonSchema(jsonSchemaText, value, label);
      return message === null ? { ok: true } : { ok: false, message };
    },
  };
}
