/**
 * `/api/v1/schedules` end to end: a real `zart-server` process (SQLite, bearer token on) loading a task
 * module that declares schedules with `defineSchedule`. A code schedule fires on real time (every second)
 * and its executions carry the tick's idempotency key; the routes create, list, get, pause, resume and
 * delete with the contract's error shape and codes; `/metrics` counts the ticks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

const TOKEN = "schedules-test-token";
type Json = Record<string, unknown>;

describe("schedule routes against a real server", () => {
  let server: ServerProcess;
  const api = (path: string, init: Parameters<typeof call>[1] = {}) =>
    call(`${server.url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });
  const errorOf = (r: { body: unknown }) => (r.body as { error: { code: string; message: string } }).error;

  before(async () => {
    server = await startServer({ args: ["--tasks", "test/fixtures/schedule-tasks.ts"], env: { ZART_API_TOKEN: TOKEN } });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("a defineSchedule schedule is listed as `code` and fires every second; each execution carries its tick key", async () => {
    const listed = await api("/schedules");
    assert.equal(listed.status, 200);
    const schedules = (listed.body as { schedules: Json[] }).schedules;
    assert.deepEqual(
      schedules.map((s) => [s.schedule_id, s.source, s.paused, s.overlap, s.timezone]),
      [
        ["heartbeat", "code", false, "allow", "UTC"],
        ["hourly", "code", true, "skip", "Asia/Kolkata"],
      ],
    );
    const times = ((schedules[0]?.next_fire_times ?? []) as string[]).map(Date.parse);
    assert.equal(times.length, 5);
    assert.deepEqual(
      times.slice(1).map((t, i) => t - (times[i] as number)),
      [1000, 1000, 1000, 1000],
    );
    assert.deepEqual(schedules[1]?.next_fire_times, [], "a paused schedule shows no fire times");
    const page = await eventually(
      async () => {
        const r = await api("/executions?task=report&order=asc");
        const found = r.body as { executions: Json[]; total: number };
        return found.total >= 2 ? found : undefined;
      },
      15_000,
      "two heartbeat executions",
    );
    const first = await api(`/executions/${page.executions[0]?.execution_id}`);
    const key = (first.body as Json).idempotency_key as string;
    assert.match(key, /^schedule:heartbeat:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.deepEqual((first.body as Json).data, { format: "tick" });
    const paused = await api("/schedules/heartbeat/pause", { method: "POST" });
    assert.equal(paused.status, 200);
    assert.deepEqual([(paused.body as Json).paused, (paused.body as Json).next_fire_times], [true, []]);
    const heartbeat = (await api("/schedules/heartbeat")).body as Json;
    assert.match(heartbeat.last_fired_at as string, /^\d{4}-.*\.000Z$/);
    assert.match(heartbeat.last_execution_id as string, /^exec-/);
    const metrics = await call(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(metrics.status, 200);
    const started = /zart_schedule_ticks_total\{schedule="heartbeat",outcome="started"\} (\d+)/.exec(metrics.text);
    assert.ok(started && Number(started[1]) >= 2, metrics.text.slice(0, 200));
  });

  it("create (201), get, list, pause and resume (idempotent), delete; a taken id is 409, an unknown one 404", async () => {
    const body = { schedule_id: "nightly-report", task: "report", cron: "0 3 * * *", timezone: "Europe/Berlin", data: { format: "pdf" } };
    const created = await api("/schedules", { json: body });
    assert.equal(created.status, 201, created.text);
    const schedule = created.body as Json;
    const { next_fire_times, created_at, updated_at, ...rest } = schedule;
    assert.deepEqual(rest, {
      ...body,
      overlap: "skip",
      paused: false,
      last_fired_at: null,
      last_execution_id: null,
      held_tick_at: null,
      source: "api",
    });
    assert.equal(created_at, updated_at);
    const fires = next_fire_times as string[];
    assert.equal(fires.length, 5);
    for (const at of fires) {
      const local = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit" }).format(
        new Date(at),
      );
      assert.equal(local, "03:00", `${at} is 03:00 in Berlin`);
    }
    assert.deepEqual((await api("/schedules/nightly-report")).body, schedule);
    const taken = await api("/schedules", { json: { ...body, cron: "0 4 * * *" } });
    assert.deepEqual(
      [taken.status, errorOf(taken)],
      [409, { code: "schedule_already_exists", message: "A schedule with ID nightly-report already exists" }],
    );
    assert.ok(((await api("/schedules")).body as { schedules: Json[] }).schedules.some((s) => s.schedule_id === "nightly-report"));

    const paused = await api("/schedules/nightly-report/pause", { method: "POST" });
    assert.deepEqual([paused.status, (paused.body as Json).paused, (paused.body as Json).next_fire_times], [200, true, []]);
    const pausedAgain = await api("/schedules/nightly-report/pause", { method: "POST", json: {} });
    assert.deepEqual(pausedAgain.body, paused.body);
    const resumed = await api("/schedules/nightly-report/resume", { method: "POST" });
    assert.deepEqual([resumed.status, (resumed.body as Json).paused, (resumed.body as Json).next_fire_times], [200, false, fires]);
    const hourly = await api("/schedules/hourly/resume", { method: "POST" });
    assert.equal((hourly.body as Json).paused, false, "a code schedule can be resumed over the API");

    const deleted = await api("/schedules/nightly-report", { method: "DELETE" });
    assert.deepEqual([deleted.status, deleted.body], [200, { schedule_id: "nightly-report", deleted: true }]);
    for (const [method, path] of [
      ["DELETE", "/schedules/nightly-report"],
      ["GET", "/schedules/nightly-report"],
      ["POST", "/schedules/nightly-report/pause"],
      ["POST", "/schedules/nightly-report/resume"],
      ["GET", "/schedules/no%20such%2Fid"],
    ] as const) {
      const missing = await api(path, { method });
      assert.equal(missing.status, 404, `${method} ${path}`);
      assert.equal(errorOf(missing).code, "schedule_not_found", `${method} ${path}`);
    }
    assert.equal(errorOf(await api("/schedules/no%20such%2Fid")).message, "No schedule found with ID no such/id");
  });

  it("bad requests: 422 with the field that is wrong, 400 for malformed JSON, 415, 401 without a token", async () => {
    const good = { schedule_id: "s1", task: "report", cron: "*/5 * * * *", data: { format: "x" } };
    const cases: [Json, number, string, RegExp][] = [
      [{ ...good, schedule_id: undefined }, 422, "invalid_data", /^schedule_id is required$/],
      [{ ...good, schedule_id: "has space" }, 422, "invalid_data", /^schedule_id must be 1-128 letters/],
      [{ ...good, cron: 5 }, 422, "invalid_data", /^cron /],
      [{ ...good, cron: "* * *" }, 422, "invalid_data", /^cron "\* \* \*" is not valid/],
      [{ ...good, cron: "0 0 31 2 *" }, 422, "invalid_data", /never fires/],
      [{ ...good, timezone: "Europe/Atlantis" }, 422, "invalid_data", /^timezone "Europe\/Atlantis" is not a known IANA time zone$/],
      [{ ...good, overlap: "queue" }, 422, "invalid_data", /^overlap must be one of skip, allow, buffer_one$/],
      [{ ...good, paused: "no" }, 422, "invalid_data", /^paused /],
      [{ ...good, data: [1, 2] }, 422, "invalid_data", /^data /],
      [{ ...good, task: "nope" }, 422, "task_not_registered", /nope/],
      [{ ...good, data: { format: 7 } }, 422, "invalid_data", /format/],
    ];
    for (const [json, status, code, message] of cases) {
      const r = await api("/schedules", { json });
      assert.equal(r.status, status, `${JSON.stringify(json)}: ${r.text}`);
      assert.equal(errorOf(r).code, code, JSON.stringify(json));
      assert.match(errorOf(r).message, message, JSON.stringify(json));
    }
    const malformed = await api("/schedules", { body: "{nope", headers: { "content-type": "application/json" } });
    assert.deepEqual([malformed.status, errorOf(malformed).code], [400, "invalid_json"]);
    const text = await api("/schedules", { body: "x", headers: { "content-type": "text/plain" } });
    assert.deepEqual([text.status, errorOf(text).code], [415, "unsupported_media_type"]);
    const anonymous = await call(`${server.url}/api/v1/schedules`);
    assert.deepEqual([anonymous.status, errorOf(anonymous).code], [401, "unauthorized"]);
    const wrongMethod = await api("/schedules/hourly/pause");
    assert.deepEqual(
      [wrongMethod.status, errorOf(wrongMethod).code, wrongMethod.headers.get("allow")],
      [405, "method_not_allowed", "POST"],
    );
    assert.equal(((await api("/schedules")).body as { schedules: Json[] }).schedules.length, 2, "nothing was created");
  });
});
