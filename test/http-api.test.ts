/**
 * Black-box tests of the execution routes of the HTTP contract (schedule, idempotency, status, list,
 * long-poll, cancel) against a real `zart-server` process on a temporary SQLite file, plus an
 * API-only process for executions that must stay pending. Events, ops and OpenAPI: http-events-ops.test.ts.
 * Over 300 lines: one test per rule of those six routes, sharing two server processes (starting a server
 * is the slow part), and the routes are split from the other files' by the contract's own sections.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  apiHelpers,
  assertError,
  body,
  ID,
  JSON_HEADERS,
  type Json,
  longPollsOpen,
  openLongPolls,
  RFC3339_Z,
} from "./support/http-helpers.js";
import { firstResponse, rawExchange } from "./support/raw-http.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

const TASKS = ["--tasks", "test/support/test-tasks.ts"];
/**
 * The worker server re-checks waited-on executions once an hour instead of every second (the SQLite
 * default): a long-poll answered within seconds was woken by the execution's end, not by a re-check.
 */
const configDir = mkdtempSync(join(tmpdir(), "zart-http-api-"));
const NO_POLL = join(configDir, "no-poll.json");
writeFileSync(NO_POLL, JSON.stringify({ worker: { safetyPoll: "1h" } }));

let server: ServerProcess;
let apiOnly: ServerProcess;
let api: string;
const { schedule, scheduled, statusOf, until, onboardingAtWait } = apiHelpers(() => api);

before(async () => {
  [server, apiOnly] = await Promise.all([
    startServer({ args: [...TASKS, "--config", NO_POLL] }),
    startServer({ args: [...TASKS, "--no-worker"] }),
  ]);
  api = `${server.url}/api/v1`;
});

after(async () => {
  const codes = await Promise.all([server.stop(), apiOnly.stop()]);
  rmSync(configDir, { recursive: true, force: true });
  assert.deepEqual(codes, [0, 0]);
});

describe("POST /executions", () => {
  it("creates an execution: 201 with id, task, status and created_at", async () => {
    // A server without a worker: the execution waits for one.
    const r = await call(`${apiOnly.url}/api/v1/executions`, { json: { task: "echo", data: { hello: "world" } } });
    assert.equal(r.status, 201);
    const b = body(r);
    assert.match(b.execution_id as string, ID);
    assert.equal(b.task, "echo");
    assert.equal(b.status, "pending");
    assert.match(b.created_at as string, RFC3339_Z);
  });

  it("a server whose worker is free starts the execution at once: answered as running, no claim needed", async () => {
    const r = await schedule("echo", { hello: "again" });
    assert.equal(r.status, 201);
    const b = body(r);
    // Inserted already claimed by the server's worker (its insert went before the run's first step).
    assert.equal(b.status, "running");
    const done = await until(b.execution_id as string, "completed");
    assert.deepEqual(done.output, { echo: { hello: "again" } });
  });

  it("ids are unique and not sequential: their random part follows no order or step", async () => {
    // Created one after another, so a counter or a clock in the ids would show.
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await scheduled("echo", {}));
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(id.length >= 5 + 13, `id ${id} too short to carry 64 random bits`);
    // 64 random bits need 13 base-36 characters (36^13 > 2^67): the last 13 must be random. Each of those
    // positions takes at least 5 values over 20 ids (random: fails with probability below 1e-14); a counter
    // or a timestamp keeps its leading characters fixed.
    const tails = ids.map((id) => id.slice(-13));
    for (let position = 0; position < 13; position++) {
      const values = new Set(tails.map((tail) => tail[position]));
      assert.ok(values.size >= 5, `position ${position} of the ids' last 13 characters took only ${[...values].join(", ")}`);
    }
    // Not ordered by creation (20 random values come out sorted with probability 2/20!) and no fixed step.
    const numbers = tails.map((tail) => [...tail].reduce((n, c) => n * 36n + BigInt(Number.parseInt(c, 36)), 0n));
    const steps = numbers.slice(1).map((n, i) => n - numbers[i]!);
    assert.ok(!steps.every((d) => d > 0n) && !steps.every((d) => d < 0n), `the ids' random parts are sorted: ${tails.join(" ")}`);
    assert.equal(new Set(steps).size, steps.length, `repeated steps between consecutive ids: ${tails.join(" ")}`);
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

  it("answers a head over 16 KB 431 headers_too_large and garbled HTTP 400 invalid_request, then hangs up", async () => {
    const port = Number(new URL(server.url).port);
    const huge = `GET /api/v1/executions HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    const answers = [];
    for (const raw of [huge, "GARBAGE\r\n\r\n"]) {
      const exchange = await rawExchange(port, raw);
      const response = firstResponse(exchange.text, true);
      assert.ok(response, JSON.stringify(exchange));
      assert.match(response.head, /\r\nConnection: close/i);
      answers.push([response.status, (JSON.parse(response.body) as { error: { code: string } }).error.code]);
    }
    assert.deepEqual(answers, [
      [431, "headers_too_large"],
      [400, "invalid_request"],
    ]);
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
    const open = await openLongPolls(server.url);
    const waiting = call(`${api}/executions/${id}/wait?timeout=30`);
    // The long-poll is parked in the server before the event ends the execution: it is woken, not answered
    // from a state that was already terminal.
    await longPollsOpen(server.url, open + 1);
    const delivered = Date.now();
    assert.equal((await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "jane" } })).status, 200);
    const done = await waiting;
    assert.equal(done.status, 200);
    assert.ok(Date.now() - delivered < 5000, `answered ${Date.now() - delivered} ms after the delivery`);
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
    await server.waitForLine((line) => line === `blocker-start ${id}`, `blocker-start ${id}`);
    const r = await call(`${api}/executions/${id}/cancel`, { method: "POST" });
    assert.equal(r.status, 200);
    assert.equal((await statusOf(id)).status, "cancelled");
    // The step ends after the cancel (its signal fired). A write caused by that end is queued in the
    // worker's committer before an execution scheduled afterwards even exists, and the committer applies
    // writes in the order they come (one SQLite connection): once that execution has completed, such a
    // write would be visible.
    await server.waitForLine((line) => line === `blocker-end ${id}`, `blocker-end ${id}`);
    const barrier = await scheduled("echo", {});
    assert.equal(body(await call(`${api}/executions/${barrier}/wait?timeout=10`)).status, "completed");
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
