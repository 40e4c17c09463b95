/**
 * Black-box tests of the execution routes of the HTTP contract (schedule, idempotency, status, list,
 * long-poll, cancel) against a real `zart-server` process on a temporary SQLite file, plus an
 * API-only process for executions that must stay pending. Events, ops and OpenAPI: http-events-ops.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiHelpers, assertError, body, ID, JSON_HEADERS, type Json, RFC3339_Z } from "./support/http-helpers.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

const TASKS = ["--tasks", "test/support/test-tasks.ts"];

let server: ServerProcess;
let apiOnly: ServerProcess;
let api: string;
const { schedule, scheduled, statusOf, until, onboardingAtWait } = apiHelpers(() => api);

before(async () => {
  [server, apiOnly] = await Promise.all([startServer({ args: TASKS }), startServer({ args: [...TASKS, "--no-worker"] })]);
  api = `${server.url}/api/v1`;
});

after(async () => {
  const codes = await Promise.all([server.stop(), apiOnly.stop()]);
  assert.deepEqual(codes, [0, 0]);
});

describe("POST /executions", () => {
  it("creates an execution: 201 with id, task, status and created_at", async () => {
    const r = await schedule("echo", { hello: "world" });
    assert.equal(r.status, 201);
    const b = body(r);
    assert.match(b.execution_id as string, ID);
    assert.equal(b.task, "echo");
    assert.equal(b.status, "pending");
    assert.match(b.created_at as string, RFC3339_Z);
  });

  it("ids are unique and not sequential", async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => scheduled("echo", {})));
    assert.equal(new Set(ids).size, 10);
    for (const id of ids) assert.ok(id.length >= 5 + 13, `id ${id} too short to carry 64 random bits`);
  });

  it("answers task_not_registered 422 for an unknown task", async () => {
    assertError(await schedule("no-such-task", {}), 422, "task_not_registered");
  });

  it("answers invalid_data 422 naming the failing field", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ data: {} }, /task/],
      [{ task: 5, data: {} }, /task/],
      [{ task: "echo" }, /data/],
      [{ task: "echo", data: [] }, /data/],
      [{ task: "echo", data: null }, /data/],
      [{ task: "echo", data: "text" }, /data/],
      [{ task: "onboarding", data: { user_id: "u1" } }, /email/],
      [{ task: "onboarding", data: { user_id: 7, email: "a@b.c" } }, /user_id/],
      [{ task: "echo", data: {}, idempotency_key: "" }, /idempotency_key/],
      [{ task: "echo", data: {}, idempotency_key: "k".repeat(256) }, /idempotency_key/],
      [[], /body/],
      ["just a string", /body/],
    ];
    for (const [payload, field] of cases) {
      const r = await call(`${api}/executions`, { json: payload });
      assertError(r, 422, "invalid_data");
      assert.match((body(r).error as Json).message as string, field, JSON.stringify(payload));
    }
  });

  it("ignores unknown fields and accepts a 255-character key and a charset suffix", async () => {
    const r = await call(`${api}/executions`, {
      body: JSON.stringify({ task: "echo", data: {}, extra: true, idempotency_key: "k".repeat(255) }),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    assert.equal(r.status, 201);
  });

  it("rejects bad JSON 400, other media types 415 and large bodies 413", async () => {
    assertError(await call(`${api}/executions`, { body: '{"task": "echo", ', headers: JSON_HEADERS }), 400, "invalid_json");
    assertError(await call(`${api}/executions`, { body: "{}", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
    assertError(await call(`${api}/executions`, { method: "POST", body: "{}" }), 415, "unsupported_media_type");
    const big = JSON.stringify({ task: "echo", data: { blob: "x".repeat(1024 * 1024) } });
    assertError(await call(`${api}/executions`, { body: big, headers: JSON_HEADERS }), 413, "payload_too_large");
  });

  it("checks in the contract's order: route, 415, 413, 400, then validation", async () => {
    const big = "x".repeat(1024 * 1024 + 10);
    assertError(
      await call(`${api}/stats`, { method: "POST", body: "{bad", headers: { "content-type": "text/plain" } }),
      405,
      "method_not_allowed",
    );
    assertError(
      await call(`${api}/nothing-here`, { method: "POST", body: "{bad", headers: { "content-type": "text/plain" } }),
      404,
      "not_found",
    );
    assertError(await call(`${api}/executions`, { body: big, headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
    assertError(await call(`${api}/executions`, { body: big, headers: JSON_HEADERS }), 413, "payload_too_large");
    assertError(await call(`${api}/executions`, { body: '{"task": 5,', headers: JSON_HEADERS }), 400, "invalid_json");
  });
});

describe("idempotency", () => {
  it("replays 200 for the same task and 409 for another", async () => {
    const first = await schedule("echo", { n: 1 }, "idem-1");
    assert.equal(first.status, 201);
    const again = await schedule("echo", { n: 2 }, "idem-1");
    assert.equal(again.status, 200);
    assert.equal(body(again).execution_id, body(first).execution_id);
    assert.deepEqual(Object.keys(body(again)).sort(), ["created_at", "execution_id", "status", "task"]);
    assertError(await schedule("sleep", { seconds: 1 }, "idem-1"), 409, "execution_already_exists");
  });

  it("20 racing POSTs with one key create exactly one execution", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => schedule("echo", { race: true }, "race-key")));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 201).length, 1, String(statuses));
    assert.equal(statuses.filter((s) => s === 200).length, 19, String(statuses));
    assert.equal(new Set(results.map((r) => body(r).execution_id)).size, 1);
  });
});

describe("GET /executions/:id", () => {
  it("returns every contract field", async () => {
    const id = await scheduled("echo", { v: 1 });
    const done = await until(id, "completed");
    for (const key of [
      "execution_id",
      "task",
      "status",
      "steps_completed",
      "current_step",
      "waiting_for_event",
      "started_at",
      "completed_at",
      "output",
      "error",
    ]) {
      assert.ok(key in done, `missing ${key}`);
    }
    assert.deepEqual(done.output, { echo: { v: 1 } });
    assert.equal(done.error, null);
    assert.equal(done.steps_completed, 1);
    assert.match(done.started_at as string, RFC3339_Z);
    assert.match(done.completed_at as string, RFC3339_Z);
  });

  it("answers execution_not_found 404 for unknown and malformed ids", async () => {
    for (const id of [
      "exec-0000000000000000",
      "abc",
      "exec-ABCDEFGHIJ",
      "exec-1234567",
      `exec-${"a".repeat(33)}`,
      "exec-abcd%20efgh",
      "%zz",
    ]) {
      assertError(await call(`${api}/executions/${id}`), 404, "execution_not_found");
    }
  });
});

describe("GET /executions (list)", () => {
  const ids: string[] = [];
  before(async () => {
    for (let i = 0; i < 7; i++) ids.push(await scheduled("sleep", { seconds: 3600 }));
    for (const id of ids) await until(id, "waiting");
  });

  it("filters by task and status and counts the total", async () => {
    const r = body(await call(`${api}/executions?task=sleep&status=waiting&limit=100`));
    assert.equal(r.total, 7);
    assert.equal(r.limit, 100);
    assert.equal(r.offset, 0);
    const items = r.executions as Json[];
    assert.deepEqual(new Set(items.map((e) => e.execution_id)), new Set(ids));
    for (const item of items) for (const key of ["execution_id", "task", "status", "started_at"]) assert.ok(key in item);
    assert.equal(body(await call(`${api}/executions?task=sleep&status=completed`)).total, 0);
  });

  it("orders by creation, desc is the exact reverse of asc, pages neither repeat nor skip", async () => {
    const asc = (body(await call(`${api}/executions?task=sleep&order=asc`)).executions as Json[]).map((e) => e.execution_id);
    const desc = (body(await call(`${api}/executions?task=sleep`)).executions as Json[]).map((e) => e.execution_id);
    assert.deepEqual(asc, ids);
    assert.deepEqual(desc, [...asc].reverse());
    const paged: unknown[] = [];
    for (let offset = 0; offset < 7; offset += 3) {
      const page = body(await call(`${api}/executions?task=sleep&order=desc&limit=3&offset=${offset}`));
      assert.equal(page.total, 7);
      paged.push(...(page.executions as Json[]).map((e) => e.execution_id));
    }
    assert.deepEqual(paged, desc);
  });

  it("clamps limit to 500 and defaults to 50", async () => {
    assert.equal(body(await call(`${api}/executions?limit=100000`)).limit, 500);
    assert.equal(body(await call(`${api}/executions?limit=501`)).limit, 500);
    // Beyond 2^53 and beyond 1e308 (where the number itself is Infinity): still an integer above 500.
    for (const huge of ["999999999999999999999", "9".repeat(400)]) {
      const r = await call(`${api}/executions?limit=${huge}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(body(r).limit, 500);
    }
    assert.equal(body(await call(`${api}/executions`)).limit, 50);
  });

  it("rejects bad parameters with invalid_request 400", async () => {
    for (const q of [
      "status=bogus",
      "status=",
      "limit=0",
      "limit=-1",
      "limit=abc",
      "limit=1.5",
      "limit=",
      "offset=-1",
      "offset=x",
      "offset=9007199254740992",
      "limit=-999999999999999999999",
      "limit=1e3",
      "order=up",
      "limit=1&limit=2",
    ]) {
      assertError(await call(`${api}/executions?${q}`), 400, "invalid_request");
    }
  });
});

describe("GET /executions/:id/wait", () => {
  it("returns 202 while running and 200 when it ends, waking at once", async () => {
    const id = await onboardingAtWait("wait-1");
    const early = await call(`${api}/executions/${id}/wait?timeout=0`);
    assert.equal(early.status, 202);
    assert.deepEqual(body(early), { execution_id: id, status: "waiting", message: "Timeout reached. Execution is still running." });
    const started = Date.now();
    const waiting = call(`${api}/executions/${id}/wait?timeout=30`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "jane" } });
    const done = await waiting;
    assert.equal(done.status, 200);
    assert.ok(Date.now() - started < 5000);
    assert.equal(body(done).status, "completed");
    assert.deepEqual(body(done).output, { customer_id: "cus_wait-1" });
    assert.match(body(done).completed_at as string, RFC3339_Z);
  });

  it("includes the error for a failed execution and clamps huge timeouts", async () => {
    const id = await scheduled("flaky", { failures: 5 });
    const r = await call(`${api}/executions/${id}/wait?timeout=99999`);
    assert.equal(r.status, 200);
    assert.equal(body(r).status, "failed");
    assert.match((body(r).error as Json).message as string, /unreliable/);
  });

  it("rejects bad timeouts and unknown ids", async () => {
    const id = await scheduled("echo", {});
    for (const q of ["timeout=abc", "timeout=-1", "timeout=1.5", "timeout="]) {
      assertError(await call(`${api}/executions/${id}/wait?${q}`), 400, "invalid_request");
    }
    assertError(await call(`${api}/executions/exec-0000000000000000/wait`), 404, "execution_not_found");
    assertError(await call(`${api}/executions/nope/wait?timeout=abc`), 404, "execution_not_found");
  });
});

describe("POST /executions/:id/cancel", () => {
  it("cancels a pending execution at once", async () => {
    const base = `${apiOnly.url}/api/v1`;
    const created = body(await call(`${base}/executions`, { json: { task: "echo", data: {} } }));
    const id = created.execution_id as string;
    const r = await call(`${base}/executions/${id}/cancel`, { method: "POST" });
    assert.equal(r.status, 200);
    assert.deepEqual(body(r), { execution_id: id, status: "cancelled" });
    const after = await statusOf(id, base);
    assert.equal(after.status, "cancelled");
    assert.match(after.completed_at as string, RFC3339_Z);
    assert.equal((await call(`${base}/executions/${id}/cancel`, { method: "POST" })).status, 200);
  });

  it("cancels a waiting execution; a later event is refused", async () => {
    const id = await onboardingAtWait("cancel-waiting");
    assert.deepEqual(body(await call(`${api}/executions/${id}/cancel`, { method: "POST" })), { execution_id: id, status: "cancelled" });
    assertError(
      await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "x" } }),
      409,
      "not_waiting_for_event",
    );
    assert.equal((await statusOf(id)).status, "cancelled");
  });

  it("cancels a running execution; its late end changes nothing", async () => {
    const id = await scheduled("blocker", {});
    await until(id, "running");
    const r = await call(`${api}/executions/${id}/cancel`, { method: "POST" });
    assert.equal(r.status, 200);
    assert.equal((await statusOf(id)).status, "cancelled");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = await statusOf(id);
    assert.equal(later.status, "cancelled");
    assert.equal(later.output, null);
    assert.equal(body(await call(`${api}/executions/${id}/wait?timeout=5`)).status, "cancelled");
  });

  it("refuses completed and failed executions with 409, unknown ids with 404", async () => {
    const done = await scheduled("echo", {});
    await until(done, "completed");
    assertError(await call(`${api}/executions/${done}/cancel`, { method: "POST" }), 409, "execution_not_cancellable");
    const failed = await scheduled("flaky", { failures: 9 });
    await until(failed, "failed");
    assertError(await call(`${api}/executions/${failed}/cancel`, { method: "POST" }), 409, "execution_not_cancellable");
    assertError(await call(`${api}/executions/exec-0000000000000000/cancel`, { method: "POST" }), 404, "execution_not_found");
  });
});
