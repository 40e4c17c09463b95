/**
 * Black-box tests of event delivery, unknown routes and methods, the ops routes and the OpenAPI
 * document, against a real `zart-server` process on a temporary SQLite file.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { compileErrors, validate } from "@readme/openapi-parser";
import type { ErrorCode } from "../src/core/errors.js";
import { STATUS_BY_CODE } from "../src/server/error-map.js";
import { apiHelpers, assertError, body, JSON_HEADERS, type Json } from "./support/http-helpers.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

let server: ServerProcess;
let api: string;
const { scheduled, statusOf, until, onboardingAtWait } = apiHelpers(() => api);

before(async () => {
  server = await startServer({ args: ["--tasks", "test/support/test-tasks.ts"] });
  api = `${server.url}/api/v1`;
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

describe("POST /events/:id/:event_name", () => {
  it("delivers 200, then refuses a second delivery with 409", async () => {
    const id = await onboardingAtWait("event-1");
    const r = await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "jane", notes: "ok" } });
    assert.equal(r.status, 200);
    assert.deepEqual(body(r), { status: "delivered", execution_id: id, event_name: "manager-approval" });
    assertError(
      await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "jane" } }),
      409,
      "not_waiting_for_event",
    );
  });

  it("checks 404, then 409, then the payload schema (422)", async () => {
    assertError(await call(`${api}/events/exec-0000000000000000/manager-approval`, { json: {} }), 404, "execution_not_found");
    assertError(await call(`${api}/events/not-an-id/manager-approval`, { json: {} }), 404, "execution_not_found");
    const id = await onboardingAtWait("event-2");
    assertError(await call(`${api}/events/${id}/other-event`, { json: { approved: "bad" } }), 409, "not_waiting_for_event");
    const bad = await call(`${api}/events/${id}/manager-approval`, { json: { approved: "yes", reviewer: "x" } });
    assertError(bad, 422, "invalid_data");
    assert.match((body(bad).error as Json).message as string, /approved/);
    assertError(await call(`${api}/events/${id}/manager-approval`, { body: "{oops", headers: JSON_HEADERS }), 400, "invalid_json");
    assert.equal((await statusOf(id)).status, "waiting");
    const done = await scheduled("echo", {});
    await until(done, "completed");
    assertError(await call(`${api}/events/${done}/manager-approval`, { json: { approved: "bad" } }), 409, "not_waiting_for_event");
  });

  it("takes any JSON value as the payload, an empty body as null", async () => {
    const payloads: Array<[string | undefined, unknown]> = [
      [undefined, null],
      ["", null],
      ["42", 42],
      ['"text"', "text"],
      ['[1, {"a": null}]', [1, { a: null }]],
    ];
    for (const [text, expected] of payloads) {
      const id = await scheduled("inbox", {});
      await until(id, "waiting");
      const r = await call(`${api}/events/${id}/ping`, { method: "POST", body: text, headers: text === undefined ? {} : JSON_HEADERS });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const done = body(await call(`${api}/executions/${id}/wait?timeout=10`));
      assert.deepEqual(done.output, { payload: expected });
    }
  });

  it("racing deliveries: exactly one 200, the rest 409", async () => {
    const id = await onboardingAtWait("event-race");
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: `r${i}` } })),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, String(statuses));
    assert.equal(statuses.filter((s) => s === 409).length, 9, String(statuses));
  });
});

describe("routes, ops and the error shape", () => {
  it("answers not_found 404 and method_not_allowed 405 with Allow", async () => {
    assertError(await call(`${server.url}/nope`), 404, "not_found");
    assertError(await call(`${api}/nope`), 404, "not_found");
    // An empty path id is not of the id form either.
    assertError(await call(`${api}/executions/`), 404, "execution_not_found");
    const cases: Array<[string, string, string]> = [
      ["DELETE", "/api/v1/executions", "GET, HEAD, POST"],
      ["PUT", "/api/v1/executions/exec-0000000000000000", "GET, HEAD"],
      ["GET", "/api/v1/executions/exec-0000000000000000/cancel", "POST"],
      ["GET", "/api/v1/events/exec-0000000000000000/x", "POST"],
      ["POST", "/healthz", "GET, HEAD"],
      ["DELETE", "/metrics", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const r = await call(`${server.url}${path}`, { method });
      assertError(r, 405, "method_not_allowed");
      assert.equal(r.headers.get("allow"), allow);
    }
  });

  it("serves /healthz, /readyz, /metrics and /stats", async () => {
    const failed = await scheduled("flaky", { failures: 9 });
    const done = await scheduled("echo", {});
    await Promise.all([until(failed, "failed"), until(done, "completed")]);
    assert.deepEqual(body(await call(`${server.url}/healthz`)), { status: "ok" });
    assert.equal((await call(`${server.url}/readyz`)).status, 200);
    const metrics = await call(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
    for (const name of [
      'zart_executions_scheduled_total{task="echo"}',
      'zart_executions_completed_total{task="echo"}',
      'zart_executions_failed_total{task="flaky"}',
      'zart_executions_started_total{task="echo"}',
      'zart_step_duration_seconds_count{task="flaky",outcome="failed"}',
      'zart_step_duration_seconds_count{task="echo",outcome="completed"}',
      "zart_http_request_duration_seconds_bucket",
      'route="/api/v1/executions/:id",method="GET",status="200"',
      "zart_http_open_long_polls",
      "zart_queue_depth",
      "zart_store_pending_inserts 0",
    ]) {
      assert.ok(metrics.text.includes(name), `metrics lack ${name}`);
    }
    const stats = body(await call(`${api}/stats`));
    assert.deepEqual(Object.keys(stats).sort(), ["cancelled", "completed", "failed", "pending", "running", "waiting"]);
    const total = Object.values(stats).reduce((a, b) => (a as number) + (b as number), 0);
    assert.equal(total, body(await call(`${api}/executions?limit=1`)).total);
  });
});

describe("GET /openapi.json", () => {
  const expected: Record<string, string[]> = {
    "/api/v1/executions": ["get", "post"],
    "/api/v1/executions/{id}": ["get"],
    "/api/v1/executions/{id}/wait": ["get"],
    "/api/v1/executions/{id}/cancel": ["post"],
    "/api/v1/events/{id}/{event_name}": ["post"],
    "/api/v1/stats": ["get"],
    "/api/v1/openapi.json": ["get"],
    "/healthz": ["get"],
    "/readyz": ["get"],
    "/metrics": ["get"],
  };
  /** The statuses the contract gives each operation (this server has no token, so no 401; every operation lists 405 and 500). */
  const statuses: Record<string, string[]> = {
    "post /api/v1/executions": ["200", "201", "400", "409", "413", "415", "422"],
    "get /api/v1/executions": ["200", "400"],
    "get /api/v1/executions/{id}": ["200", "404"],
    "get /api/v1/executions/{id}/wait": ["200", "202", "400", "404"],
    "post /api/v1/executions/{id}/cancel": ["200", "400", "404", "409", "413", "415"],
    "post /api/v1/events/{id}/{event_name}": ["200", "400", "404", "409", "413", "415", "422"],
    "get /readyz": ["200", "503"],
  };

  it("is a valid OpenAPI 3 document (@readme/openapi-parser) listing every route, parameter and response", async () => {
    const doc = body(await call(`${api}/openapi.json`));
    assert.match(doc.openapi as string, /^3\.\d+\.\d+$/);
    // The validator checks the document against the OpenAPI schema of its version, resolves every $ref and
    // applies the specification's own rules (unique operation ids, path parameters declared, ...). It
    // dereferences what it is given, so it gets a copy.
    const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    assert.ok(result.valid, result.valid ? "" : compileErrors(result));
    assert.equal(result.specification, "OpenAPI");
    assert.deepEqual(result.warnings, []);
    const paths = doc.paths as Record<string, Record<string, Json>>;
    for (const [path, methods] of Object.entries(expected)) {
      assert.ok(paths[path], `missing path ${path}`);
      for (const method of methods) {
        const operation: Json | undefined = paths[path]?.[method];
        assert.ok(operation, `missing ${method} ${path}`);
        const responses = operation.responses as Record<string, Json>;
        assert.ok(Object.keys(responses).length > 0, `${method} ${path} has no responses`);
        for (const response of Object.values(responses)) assert.equal(typeof response.description, "string");
        for (const status of [...(statuses[`${method} ${path}`] ?? []), "405", "500"]) {
          assert.ok(responses[status], `${method} ${path} lacks ${status}`);
        }
        assert.equal(responses["401"], undefined, `${method} ${path}: no 401 without a configured token`);
        for (const [status, response] of Object.entries(responses)) {
          const schema = ((response.content as Json | undefined)?.["application/json"] as Json | undefined)?.schema as Json | undefined;
          if (Number(status) < 400) continue;
          // The contract's error shape, with the codes of exactly this status.
          const ref = String(schema?.$ref);
          assert.match(ref, /^#\/components\/schemas\/\w+Error$/, `${method} ${path} ${status}`);
          const component = ((doc.components as Json).schemas as Json)[ref.split("/").pop() as string] as Json;
          const error = (component.properties as Json).error as Json;
          const codes = ((error.properties as Json).code as Json).enum as ErrorCode[];
          assert.deepEqual((error.required as string[]).sort(), ["code", "message"]);
          for (const code of codes) assert.equal(STATUS_BY_CODE[code], Number(status), `${method} ${path} ${status} lists ${code}`);
        }
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const params: unknown[] = ((operation.parameters as Json[] | undefined) ?? []).filter((p) => p.in === "path").map((p) => p.name);
        assert.deepEqual(params.sort(), templated.sort(), `path parameters of ${method} ${path}`);
      }
    }
    const list = ((paths["/api/v1/executions"] as Record<string, Json>).get as Json).parameters as Json[];
    assert.deepEqual(list.map((p) => p.name).sort(), ["limit", "offset", "order", "status", "task"]);
    const operation = (path: string, method: string) => (paths[path] as Record<string, Json>)[method] as Json;
    assert.ok((operation("/api/v1/executions/{id}/wait", "get").responses as Json)["202"]);
    assert.ok((operation("/api/v1/executions", "post").requestBody as Json).content);
    assert.ok((operation("/api/v1/events/{id}/{event_name}", "post").requestBody as Json).content);
  });
});
