/**
 * Retention through the engine and HTTP on SQLite with a ManualClock: background rounds of `retention`
 * (at start, then every minute on the engine's clock) with their log line and metric, `engine.prune` and
 * its checks, a pruned record no longer served from the terminal cache, a prune waiting while another
 * process holds the lease, and `POST /api/v1/admin/prune` (answer, 400s, auth, errors of the body).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import pino from "pino";
import { ManualClock } from "../src/core/clock.js";
import { ZartError } from "../src/core/errors.js";
import type { Logger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import type { EngineOptions } from "../src/engine/engine-options.js";
import { buildServer } from "../src/server/app.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import type { Store } from "../src/store/store.js";
import { deferred } from "./support/deferred.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const HOUR = 3_600_000;

const echo = defineTask({ name: "echo", run: (_ctx, data: { n: number }) => data });
const gate = defineTask({
  name: "gate",
  async run(ctx) {
    await ctx.waitForEvent("go");
    return "through";
  },
});

const dir = mkdtempSync(join(tmpdir(), "zart-retention-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function recorder(lines: Line[]): Logger {
  const log = (level: string) => (obj: object | string, msg?: string) =>
    lines.push({
      level,
      obj: typeof obj === "string" ? {} : (obj as Record<string, unknown>),
      msg: typeof obj === "string" ? obj : (msg ?? ""),
    });
  const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: () => logger };
  return logger;
}

async function setUp(options: Partial<EngineOptions> = {}) {
  const path = join(dir, `zart-${++files}.db`);
  const store = await SqliteStore.open({ path });
  const clock = new ManualClock(T0);
  const lines: Line[] = [];
  const pruned: number[] = [];
  const metrics = { scheduled() {}, started() {}, finished() {}, stepFinished() {}, claimed() {}, pruned: (n: number) => pruned.push(n) };
  const engine = await Engine.start({ store, clock, tasks: [echo, gate], logger: recorder(lines), metrics, ...options });
  const run = async (n: number, key?: string) => {
    const { execution } = await engine.schedule({ task: "echo", data: { n }, idempotencyKey: key });
    const done = await engine.waitForTerminal(execution.id, 10_000);
    assert.equal(done.status, "completed");
    return done.id;
  };
  const stop = async () => {
    await engine.stop();
    await store.close();
  };
  return { path, store, clock, lines, pruned, engine, run, stop };
}

async function notFound(engine: Engine, id: string): Promise<void> {
  await assert.rejects(engine.get(id), (error: unknown) => error instanceof ZartError && error.code === "execution_not_found");
}

describe("retention through the engine", () => {
  test("background rounds: at start and every minute, on the engine's clock; a log line and the metric per round that deleted", async () => {
    const h = await setUp({ retention: { olderThan: "1h" } });
    try {
      await h.engine.pruneSettled();
      const old = [await h.run(1, "key-1"), await h.run(2)];
      const { execution: waiting } = await h.engine.schedule({ task: "gate", data: {} });
      await waitForStatus(h.engine, waiting.id, "waiting");
      h.clock.advance(HOUR - 60_000);
      const recent = await h.run(3);
      // The round at T0 + 1h (the minute timer): `old` ended at T0, an hour and a bit before.
      h.clock.advance(60_000 + 1);
      await h.engine.pruneSettled();
      for (const id of old) await notFound(h.engine, id);
      assert.equal((await h.engine.get(recent)).status, "completed");
      assert.equal((await h.engine.get(waiting.id)).status, "waiting");
      assert.deepEqual(await h.engine.stats(), { pending: 0, running: 0, waiting: 1, completed: 1, failed: 0, cancelled: 0 });
      assert.equal((await h.engine.list({ limit: 50, offset: 0, order: "asc" })).total, 2);
      assert.deepEqual(h.pruned, [2], "the metric counts what was deleted");
      const logged = h.lines.filter((l) => l.msg === "pruned finished executions");
      assert.equal(logged.length, 1, "one line per round that deleted something (the empty round at start logs none)");
      assert.equal(logged[0]?.level, "info");
      assert.equal(logged[0]?.obj.pruned, 2);
      assert.equal(logged[0]?.obj.completedBefore, new Date(T0 + HOUR + 1 - HOUR).toISOString());
      const again = await h.engine.schedule({ task: "echo", data: { n: 9 }, idempotencyKey: "key-1" });
      assert.equal(again.created, true, "the pruned execution's key is free");
    } finally {
      await h.stop();
    }
  });

  test("engine.prune: one round now, whatever `retention` says; a pruned record is not served from memory", async () => {
    const h = await setUp();
    try {
      const id = await h.run(1);
      // Read and cached as terminal (served from memory for a second of the engine's clock).
      assert.equal((await h.engine.get(id)).status, "completed");
      h.clock.advance(10);
      assert.equal(await h.engine.prune({ olderThan: "20ms" }), 0, "ended 10 ms ago: kept");
      assert.equal(await h.engine.prune({ olderThan: "5ms" }), 1);
      await notFound(h.engine, id);
      assert.deepEqual(h.pruned, [1]);
      assert.equal(await h.engine.prune({ olderThan: 0 }), 0);
    } finally {
      await h.stop();
    }
  });

  test("engine.prune: anything but a duration is invalid_request", async () => {
    const h = await setUp();
    try {
      for (const bad of ["soon", "", "30", "-1d", undefined, null, -5, {}, "1e999d"]) {
        await assert.rejects(
          h.engine.prune({ olderThan: bad as never }),
          (error: unknown) => error instanceof ZartError && error.code === "invalid_request" && /older_than/.test(error.message),
          String(bad),
        );
      }
    } finally {
      await h.stop();
    }
  });

  test("engine.prune waits while another process holds the prune lease, then runs its own round", async () => {
    const h = await setUp();
    const other: Store = await SqliteStore.open({ path: h.path });
    try {
      const ids = [await h.run(1), await h.run(2)];
      h.clock.advance(1000);
      const third = await h.run(3);
      // The other process's round takes the two that ended at T0, one per batch, and holds the lease
      // while it waits after its first batch.
      const inBatch = deferred();
      const goOn = deferred<boolean>();
      const theirs = other.pruneExecutions({
        completedBefore: T0 + 1,
        batchSize: 1,
        holder: "other-process",
        now: () => h.clock.now(),
        afterBatch: async () => {
          inBatch.resolve();
          return goOn.promise;
        },
      });
      await inBatch.promise;
      const ours = h.engine.prune({ olderThan: "1ms" });
      await h.clock.whenSleeping();
      goOn.resolve(true);
      assert.deepEqual(await theirs, { ran: true, pruned: 2 });
      h.clock.advance(1000);
      assert.equal(await ours, 1, "ours ran once theirs had ended, and found the third");
      for (const id of [...ids, third]) await notFound(h.engine, id);
    } finally {
      await other.close();
      await h.stop();
    }
  });
});

async function waitForStatus(engine: Engine, id: string, status: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await engine.get(id)).status === status) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`${id} never became ${status}`);
}

describe("POST /api/v1/admin/prune", () => {
  test("answers { pruned }; a missing or malformed older_than is 400 invalid_request; the token applies", async () => {
    const h = await setUp();
    const server = await buildServer(
      h.engine,
      { tokens: ["t0k"], bodyLimit: 1024 * 1024, metricsPublic: false },
      pino({ level: "silent" }),
    );
    const post = (payload: unknown, headers: Record<string, string> = { authorization: "Bearer t0k" }) =>
      server.app.inject({
        method: "POST",
        url: "/api/v1/admin/prune",
        headers: { "content-type": "application/json", ...headers },
        payload: payload === undefined ? undefined : JSON.stringify(payload),
      });
    try {
      await h.run(1);
      await h.run(2);
      h.clock.advance(100);
      const unauthorized = await post({ older_than: "1ms" }, {});
      assert.equal(unauthorized.statusCode, 401);
      for (const body of [{}, { older_than: 30 }, { older_than: "soon" }, { older_than: "" }, { older_than: null }, [], "30d", undefined]) {
        const refused = await post(body);
        assert.equal(refused.statusCode, 400, `${JSON.stringify(body)}: ${refused.body}`);
        assert.equal(refused.json().error.code, "invalid_request", JSON.stringify(body));
        assert.match(refused.json().error.message, /older_than|body/);
      }
      const ok = await post({ older_than: "50ms", ignored: true });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json(), { pruned: 2 });
      assert.deepEqual((await post({ older_than: "50ms" })).json(), { pruned: 0 });
      const stats = await server.app.inject({ method: "GET", url: "/api/v1/stats", headers: { authorization: "Bearer t0k" } });
      assert.equal(stats.json().completed, 0);
      const wrongType = await server.app.inject({
        method: "POST",
        url: "/api/v1/admin/prune",
        headers: { "content-type": "text/plain", authorization: "Bearer t0k" },
        payload: "older_than=1d",
      });
      assert.equal(wrongType.statusCode, 415);
      const get = await server.app.inject({ method: "GET", url: "/api/v1/admin/prune", headers: { authorization: "Bearer t0k" } });
      assert.equal(get.statusCode, 405);
    } finally {
      await server.close();
      await h.stop();
    }
  });
});
