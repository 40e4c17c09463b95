/**
 * The OpenAPI document against the findings of third-party tools: security only when tokens are
 * configured, optional bodies for events and cancel, 401/405/500/HEAD documented with their headers,
 * an operationId on every operation, named component schemas, and per-status error code enums that
 * agree with the one status mapping (error-map.ts). Built in-process with `inject` on an in-memory API.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ErrorCode } from "../src/core/errors.js";
import { STATUS_BY_CODE } from "../src/server/error-map.js";
import { openApiDocument } from "./support/openapi-document.js";

type Json = Record<string, unknown>;
type Operation = Json & { responses: Record<string, Json>; security?: unknown[]; operationId?: string };

const documentFor = openApiDocument;

function operations(doc: Json): Array<{ path: string; method: string; op: Operation }> {
  return Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
}

const op = (doc: Json, path: string, method: string) =>
  (doc.paths as Record<string, Record<string, Operation>>)[path]?.[method] as Operation;
const schemas = (doc: Json) => (doc.components as Json).schemas as Record<string, Json>;
const jsonSchema = (response: Json | undefined) =>
  ((response?.content as Json | undefined)?.["application/json"] as Json | undefined)?.schema as Json | undefined;
const refName = (schema: Json | undefined) => String(schema?.$ref).replace("#/components/schemas/", "");

describe("security follows the configuration", () => {
  test("no token configured: no scheme and no requirement anywhere, no 401", async () => {
    const doc = await documentFor();
    assert.deepEqual(doc.security, []);
    assert.equal((doc.components as Json).securitySchemes, undefined);
    for (const { path, method, op } of operations(doc)) {
      assert.ok(op.security === undefined || op.security.length === 0, `${method} ${path} requires ${JSON.stringify(op.security)}`);
      assert.equal(op.responses["401"], undefined, `${method} ${path}`);
    }
    assert.match(String((doc.info as Json).description), /no token configured/);
  });

  test("tokens configured: bearer on the API and /metrics, never on the probes; 401 with WWW-Authenticate", async () => {
    const doc = await documentFor({ tokens: ["s3cret"] });
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.deepEqual(((doc.components as Json).securitySchemes as Json).bearerAuth, {
      type: "http",
      scheme: "bearer",
      description: "One of the server's configured tokens",
    });
    for (const { path, method, op } of operations(doc)) {
      const open = path === "/healthz" || path === "/readyz";
      assert.deepEqual(op.security, open ? [] : undefined, `${method} ${path}`);
      if (open) {
        assert.equal(op.responses["401"], undefined, `${method} ${path}`);
        continue;
      }
      const unauthorized = op.responses["401"];
      assert.ok(unauthorized, `${method} ${path} lacks 401`);
      assert.deepEqual((unauthorized.headers as Json)["www-authenticate"], {
        schema: { type: "string", enum: ["Bearer"] },
        description: "Always `Bearer`",
      });
    }
  });

  test("a public /metrics has no requirement", async () => {
    const doc = await documentFor({ tokens: ["s3cret"], metricsPublic: true });
    assert.deepEqual(op(doc, "/metrics", "get").security, []);
    assert.equal(op(doc, "/metrics", "get").responses["401"], undefined);
    assert.ok(op(doc, "/api/v1/stats", "get").responses["401"]);
  });
});

describe("operations", () => {
  test("every operation has a unique operationId; every GET has a HEAD without a body", async () => {
    const doc = await documentFor();
    const ids = operations(doc).map(({ op }) => op.operationId);
    for (const id of ids) assert.match(String(id), /^[a-zA-Z]+$/);
    assert.equal(new Set(ids).size, ids.length, `duplicates in ${ids.join(", ")}`);
    assert.equal(op(doc, "/api/v1/executions", "post").operationId, "scheduleExecution");
    assert.equal(op(doc, "/api/v1/events/{id}/{event_name}", "post").operationId, "sendEvent");
    for (const { path, method, op: get } of operations(doc).filter((o) => o.method === "get")) {
      const head = op(doc, path, "head");
      assert.ok(head, `no HEAD for ${path}`);
      assert.equal(head.operationId, `${get.operationId}Head`);
      assert.deepEqual(Object.keys(head.responses).sort(), Object.keys(get.responses).sort(), `${method} ${path}`);
      for (const response of Object.values(head.responses)) assert.equal(response.content, undefined, `HEAD ${path} has a body`);
    }
  });

  test("405 with Allow and 500 on every operation; x-request-id on every error; the route-level 404 described", async () => {
    const doc = await documentFor();
    for (const { path, method, op } of operations(doc)) {
      assert.ok((op.responses["405"]?.headers as Json | undefined)?.allow, `${method} ${path} 405 lacks Allow`);
      assert.ok(op.responses["500"], `${method} ${path} lacks 500`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400) assert.ok((response.headers as Json | undefined)?.["x-request-id"], `${method} ${path} ${status}`);
      }
    }
    assert.match(String((doc.info as Json).description), /`404` with the code `not_found`/);
  });

  test("the event body and the cancel body are optional; cancel declares 400, 413 and 415", async () => {
    const doc = await documentFor();
    const event = op(doc, "/api/v1/events/{id}/{event_name}", "post");
    assert.equal((event.requestBody as Json).required, false);
    assert.equal(refName(jsonSchema(event.requestBody as Json)), "EventPayload");
    const cancel = op(doc, "/api/v1/executions/{id}/cancel", "post");
    assert.equal((cancel.requestBody as Json).required, false);
    assert.equal(refName(jsonSchema(cancel.requestBody as Json)), "CancelRequest");
    const codes = (status: string) => {
      const component = schemas(doc)[refName(jsonSchema(cancel.responses[status]))] as Json;
      return ((((component.properties as Json).error as Json).properties as Json).code as Json).enum;
    };
    assert.deepEqual(codes("400"), ["invalid_json", "invalid_request"]);
    assert.deepEqual(codes("413"), ["payload_too_large"]);
    assert.deepEqual(codes("415"), ["unsupported_media_type"]);
    assert.deepEqual(codes("404"), ["execution_not_found"]);
    assert.deepEqual(codes("409"), ["execution_not_cancellable"]);
    assert.equal((op(doc, "/api/v1/executions", "post").requestBody as Json).required, true);
  });
});

describe("schemas", () => {
  test("bodies are named components; `data` accepts any properties", async () => {
    const doc = await documentFor();
    const schedule = op(doc, "/api/v1/executions", "post");
    assert.equal(refName(jsonSchema(schedule.requestBody as Json)), "ScheduleRequest");
    assert.equal(refName(jsonSchema(schedule.responses["201"])), "ScheduledExecution");
    assert.equal(refName(jsonSchema(op(doc, "/api/v1/executions/{id}", "get").responses["200"])), "Execution");
    assert.equal(refName(jsonSchema(op(doc, "/api/v1/executions", "get").responses["200"])), "ExecutionList");
    const data = ((schemas(doc).ScheduleRequest as Json).properties as Json).data as Json;
    assert.equal(data.type, "object");
    assert.equal(data.additionalProperties, true);
    assert.deepEqual(((schemas(doc).Execution as Json).properties as Json).status, { $ref: "#/components/schemas/ExecutionStatus" });
  });

  test("each error response lists exactly the codes of its status, and every component is used", async () => {
    for (const doc of [await documentFor(), await documentFor({ tokens: ["t"] })]) {
      const used = new Set<string>();
      JSON.stringify(doc, (key, value: unknown) => {
        if (key === "$ref") used.add(String(value).replace("#/components/schemas/", ""));
        return value;
      });
      assert.deepEqual(Object.keys(schemas(doc)).sort(), [...used].sort());
      for (const { path, method, op } of operations(doc)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || method === "head") continue;
          const component = schemas(doc)[refName(jsonSchema(response))] as Json;
          const codes = ((((component.properties as Json).error as Json).properties as Json).code as Json).enum as ErrorCode[];
          assert.ok(codes.length > 0);
          for (const code of codes) assert.equal(STATUS_BY_CODE[code], Number(status), `${method} ${path} ${status}: ${code}`);
        }
      }
    }
  });
});
