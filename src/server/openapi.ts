/**
 * The OpenAPI document: @fastify/swagger generates it from the route schemas, and this module adds what
 * depends on the server's configuration or applies to every operation, in one place:
 * - security: bearer auth is declared (document-wide, with `security: []` on the routes that never need a
 *   token) only when tokens are configured; without tokens no operation carries a requirement;
 * - 401 (with `WWW-Authenticate`) on the operations that need a token, 405 (with `Allow`) and 500 on
 *   every operation, 503 `store_unavailable` on every `/api/` operation (each reaches the store),
 *   `x-request-id` on every error response, `Retry-After` on the 503s that carry it
 *   (`overloaded`), HEAD operations for every GET;
 * - named schemas (schema-names.ts) become `#/components/schemas/<name>` references; components no
 *   operation uses are left out; request bodies marked optional are not `required`.
 * Routes' own `security` entries are ignored: whether a route needs a token is `requiresToken` (auth.ts),
 * the same function the request gate applies.
 */
import type { SwaggerOptions } from "@fastify/swagger";
import type { FastifySchema } from "fastify";
import { requiresToken } from "./auth.js";
import { described, describedSchema, hasRetryAfter, isOptionalBody, namedSchemas, nameOf } from "./schema-names.js";
import { errorSchema } from "./schemas.js";

export interface DocumentOptions {
  /** Tokens are configured: the API needs a bearer token. */
  auth: boolean;
  metricsPublic: boolean;
}

type Json = Record<string, unknown>;

const OPTIONAL_BODY = "x-optional-body";

const RETRY_AFTER_HEADER = {
  "retry-after": { type: "integer", minimum: 1, description: "Seconds to wait before repeating the request (`overloaded`)" },
};

const REQUEST_ID_HEADER = {
  "x-request-id": { type: "string", description: "The request's id, also quoted in the server's log lines (and in a 500's message)" },
};

/** A described error response that also documents response headers. */
function withHeaders<T extends object>(response: T, headers: Json): T {
  Object.assign(response, { headers });
  return response;
}

const unauthorized = withHeaders(described(errorSchema(["unauthorized"]), "Unauthorized: `unauthorized` (no valid bearer token)"), {
  "www-authenticate": { type: "string", enum: ["Bearer"], description: "Always `Bearer`" },
});
const methodNotAllowed = withHeaders(
  described(
    errorSchema(["method_not_allowed"]),
    "Method not allowed: `method_not_allowed`, answered on this path for any method it does not define (OPTIONS included)",
  ),
  { allow: { type: "string", description: "The methods this path accepts, e.g. `GET, HEAD`" } },
);
const internalError = described(
  errorSchema(["internal_error"]),
  "Internal server error: `internal_error` (the message quotes the request id; no details are sent)",
);

const storeUnavailable = described(
  errorSchema(["store_unavailable"]),
  "Service unavailable: `store_unavailable` (the store cannot serve the request right now: PostgreSQL unreachable, SQLite's disk full or an I/O error; nothing was stored, repeat later)",
);

/** Replaces named schemas by references to their components (the schema itself when it is `top`). */
function toDocument(value: unknown, top?: object): unknown {
  if (Array.isArray(value)) return value.map((item) => toDocument(item));
  if (typeof value !== "object" || value === null) return value;
  const source = describedSchema(value);
  const sourceName = source && nameOf(source);
  if (sourceName) {
    const { description, headers } = value as Json;
    return headers === undefined ? { $ref: sourceName, description } : { $ref: sourceName, description, headers };
  }
  const name = nameOf(value);
  if (name !== undefined && value !== top) return { $ref: name };
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toDocument(item)]));
}

function withRequestId(response: unknown): unknown {
  const headers = ((response as Json).headers as Json | undefined) ?? {};
  return { ...(response as Json), headers: { ...headers, ...REQUEST_ID_HEADER } };
}

/** A HEAD operation's response: the GET's status, description and headers, no body. */
function headersOnly(response: unknown): Json {
  const { description, headers } = response as Json;
  return headers === undefined ? { description, type: "null" } : { description, type: "null", headers };
}

/** The schema the document shows for one route (the route itself keeps running with its own schema). */
function documentRoute(schema: FastifySchema, url: string, method: string, options: DocumentOptions): FastifySchema {
  const { security: _declared, response, body, ...rest } = schema as Json;
  const needsToken = options.auth && requiresToken(url, options.metricsPublic);
  const responses: Json = { ...(response as Json | undefined) };
  delete responses["401"];
  if (needsToken) responses["401"] = unauthorized;
  responses["405"] = methodNotAllowed;
  responses["500"] = internalError;
  if (url.startsWith("/api/") && responses["503"] === undefined) responses["503"] = storeUnavailable;
  for (const [status, entry] of Object.entries(responses)) {
    const document = toDocument(entry) as Json;
    if (hasRetryAfter(entry as object)) document.headers = { ...(document.headers as Json | undefined), ...RETRY_AFTER_HEADER };
    const shown = Number(status) >= 400 ? withRequestId(document) : document;
    responses[status] = method === "HEAD" ? headersOnly(shown) : shown;
  }
  const documented: Json = { ...rest, response: responses };
  if (body !== undefined) documented.body = toDocument(body);
  if (body !== undefined && isOptionalBody(body as object)) documented[OPTIONAL_BODY] = true;
  if (options.auth && !needsToken) documented.security = [];
  if (method === "HEAD") {
    // fastify gives the HEAD route it derives from a GET the GET's schema (operationId and all).
    documented.operationId = `${String(rest.operationId).replace(/-head$/, "")}Head`;
    documented.summary = `${String(rest.summary)} (headers only)`;
  }
  return documented as FastifySchema;
}

/** Every `$ref` target under `node`, as component names. */
function referencedNames(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const item of node) referencedNames(item, into);
  else if (typeof node === "object" && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") into.add(value.replace("#/components/schemas/", ""));
      else referencedNames(value, into);
    }
  }
  return into;
}

/** Optional request bodies lose `required`; components no operation reaches are dropped. */
function finishDocument(document: Json): Json {
  const paths = document.paths as Record<string, Record<string, Json>>;
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      if (operation[OPTIONAL_BODY] !== true) continue;
      delete operation[OPTIONAL_BODY];
      (operation.requestBody as Json).required = false;
    }
  }
  const components = document.components as { schemas: Json };
  const used = referencedNames(paths, new Set());
  for (let grown = true; grown; ) {
    const before = used.size;
    for (const name of [...used]) referencedNames(components.schemas[name], used);
    grown = used.size > before;
  }
  components.schemas = Object.fromEntries(Object.entries(components.schemas).filter(([name]) => used.has(name)));
  return document;
}

/** The named schemas as shared schemas (`addSchema`), from which @fastify/swagger writes the components. */
export function componentSchemas(): Json[] {
  return [...namedSchemas()].map(([name, schema]) => ({ ...(toDocument(schema, schema) as Json), $id: name }));
}

export function openApiOptions(options: DocumentOptions): SwaggerOptions {
  return {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Zart HTTP API",
        version: "1.0.0",
        license: { name: "MIT", url: "https://spdx.org/licenses/MIT.html" },
        description: [
          "Durable executions: schedule, inspect, wait for, cancel, and send events.",
          'Every error has the body `{ "error": { "code", "message" } }` with a JSON content type; each response lists the codes its status can carry.',
          "A path this document does not list answers `404` with the code `not_found`; a listed path called with a method it does not define answers `405` `method_not_allowed` with an `Allow` header.",
          options.auth
            ? "This server has bearer tokens configured: every `/api/v1` operation needs `Authorization: Bearer <token>`."
            : "This server has no token configured: no operation needs authentication.",
        ].join("\n\n"),
      },
      servers: [{ url: "/" }],
      components: options.auth
        ? { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "One of the server's configured tokens" } } }
        : {},
      security: options.auth ? [{ bearerAuth: [] }] : [],
      tags: [
        { name: "executions", description: "Schedule executions, read their status, wait for them to end, cancel them" },
        { name: "events", description: "Deliver events to executions waiting for them" },
        { name: "ops", description: "Health, readiness, metrics, counts and this document" },
        { name: "schedules", description: "Cron schedules: each tick starts one execution of a task" },
        { name: "admin", description: "Retention: delete finished executions older than a duration" },
      ],
    },
    exposeHeadRoutes: true,
    transform: ({ schema, url, route }) => ({ schema: documentRoute(schema, url, String(route.method), options), url }),
    transformObject: (generated) => finishDocument((generated as unknown as { openapiObject: Json }).openapiObject),
    // Shared schemas are referenced by their $id, so references read `#/components/schemas/<name>`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
  };
}
