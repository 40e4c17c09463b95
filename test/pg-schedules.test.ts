/**
 * Schedules on one PostgreSQL schema shared by several processes: every tick starts exactly one
 * execution however many of them fire it. Two engines on two stores (each its own pool and LISTEN
 * connection) on one ManualClock race for each tick; a `buffer_one` tick held by one engine is released
 * when another process ends the previous execution (the notice crosses over LISTEN/NOTIFY; the clock
 * stands still); and two real `zart-server` processes fire an every-second schedule on real time.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineSchedule } from "../src/core/schedule.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { OutcomeLog } from "../src/testing/index.js";
import { adminQuery, markPostgresRan, TestSchema } from "./support/postgres.js";
import { databaseUrl, ZartProcess } from "./support/processes.js";
import { call, eventually } from "./support/server-process.js";
import { NoticeRecorder } from "./support/store-fixtures.js";

const MINUTE = 60_000;
const noop = defineTask({ name: "noop", run: () => "ok" });

interface Node {
  engine: Engine;
  store: PostgresStore;
  log: OutcomeLog;
}

describe("schedules on one PostgreSQL schema", () => {
  const schemas: TestSchema[] = [];
  after(async () => {
    for (const schema of schemas) await schema.drop();
  });

  /** Engines on separate stores (pools) of one schema, sharing one ManualClock, not running executions. */
  async function nodes(
    count: number,
    overlap: "allow" | "buffer_one",
  ): Promise<{ nodes: Node[]; clock: ManualClock; stop(): Promise<void> }> {
    const schema = new TestSchema("sched");
    schemas.push(schema);
    const clock = new ManualClock();
    const schedule = defineSchedule({ schedule_id: "race", task: noop, cron: "* * * * *", overlap });
    const started: Node[] = [];
    for (let i = 0; i < count; i++) {
      const store = await schema.open();
      const log = new OutcomeLog();
      const engine = await Engine.start({
        store,
        tasks: [noop],
        clock,
        logger: silentLogger,
        metrics: log,
        worker: false,
        schedules: [schedule],
      });
      started.push({ engine, store, log });
    }
    return {
      nodes: started,
      clock,
      async stop() {
        for (const node of started) {
          await node.engine.stop();
          await node.store.close();
        }
      },
    };
  }

  const settled = (nodes: Node[]) => Promise.all(nodes.map((n) => n.engine.schedules.settled()));

  /** Moves the shared clock until every engine's clock (each on the database's clock, with its own offset) is past `at`. */
  async function passTick(nodes: Node[], clock: ManualClock, at: number): Promise<void> {
    await settled(nodes);
    const slowest = Math.min(...nodes.map((n) => n.engine.options.clock.now()));
    clock.advance(at - slowest + 5);
    await settled(nodes);
  }

  test("two engines on two pools race for every tick: each tick starts exactly one execution", async () => {
    const {
      nodes: [a, b],
      clock,
      stop,
    } = await nodes(2, "allow");
    assert.ok(a && b);
    markPostgresRan();
    try {
      const ticks: number[] = [];
      for (let i = 0; i < 8; i++) {
        const next = (await a.engine.schedules.get("race")).nextTickAt as number;
        ticks.push(next);
        await passTick([a, b], clock, next);
      }
      const { executions, total } = await a.store.listExecutions({ task: "noop", limit: 100, offset: 0, order: "asc" });
      assert.equal(total, 8);
      assert.deepEqual(
        executions.map((e) => e.idempotencyKey),
        ticks.map((t) => `schedule:race:${new Date(t).toISOString()}`),
      );
      assert.ok(executions.every((e) => e.scheduleId === "race"));
      const started = [...a.log.ticks, ...b.log.ticks];
      assert.equal(started.length, 8, "each tick was applied by one engine (the other found it moved on)");
      assert.ok(started.every((t) => t.outcome === "started"));
      assert.equal(ticks[7]! - ticks[0]!, 7 * MINUTE);
    } finally {
      await stop();
    }
  });

  test("buffer_one across processes: the tick one engine held starts when another ends the previous execution, on its notice", async () => {
    const {
      nodes: [a, b],
      clock,
      stop,
    } = await nodes(2, "buffer_one");
    assert.ok(a && b);
    try {
      const first = (await a.engine.schedules.get("race")).nextTickAt as number;
      await passTick([a, b], clock, first);
      await passTick([a, b], clock, first + MINUTE);
      const schedule = await a.engine.schedules.get("race");
      assert.equal(schedule.heldTickAt, first + MINUTE);
      const previous = schedule.lastExecutionId as string;
      const holder = [a, b].find((n) => n.log.ticks.some((t) => t.outcome === "held"));
      const other = holder === a ? b : a;
      assert.ok(holder, "one engine held the tick");
      // The other engine ends the previous execution. Nothing moves the clock: only the terminal notice
      // (over LISTEN/NOTIFY when the holder is the other process) can release the held tick.
      const seen = new NoticeRecorder(other.store);
      try {
        await other.engine.cancel(previous);
        await seen.waitFor((n) => n.kind === "runnable" && n.task === "noop", "the held tick's execution");
      } finally {
        seen.unsubscribe();
      }
      await settled([a, b]);
      const { executions } = await a.store.listExecutions({ task: "noop", limit: 10, offset: 0, order: "asc" });
      assert.deepEqual(
        executions.map((e) => e.idempotencyKey),
        [first, first + MINUTE].map((t) => `schedule:race:${new Date(t).toISOString()}`),
      );
      assert.equal((await b.engine.schedules.get("race")).heldTickAt, null);
      assert.equal([...a.log.ticks, ...b.log.ticks].filter((t) => t.outcome === "started").length, 2);
    } finally {
      await stop();
    }
  });

  test("two zart-server processes on one schema fire an every-second schedule: one execution per tick", { timeout: 120_000 }, async () => {
    const schema = new TestSchema("sched_mp");
    schemas.push(schema);
    const database = databaseUrl(schema.name, 4);
    const servers: ZartProcess[] = [];
    try {
      for (const label of ["server-a", "server-b"]) {
        servers.push(
          new ZartProcess(
            label,
            ["serve", "--port", "0", "--database", database, "--log-level", "warn", "--tasks", "test/fixtures/schedule-tasks.ts"],
            {},
          ),
        );
      }
      const urls = await Promise.all(
        servers.map(async (server) => {
          const banner = await server.waitForLine((l) => l.startsWith("zart-server listening on "), "its banner", 45_000);
          return banner.slice("zart-server listening on ".length).trim();
        }),
      );
      markPostgresRan();
      // Both servers fire for a while (the schedule ticks every second) until eight ticks have fired.
      await eventually(
        async () => ((await call(`${urls[0]}/api/v1/executions?task=report`)).body as { total: number }).total >= 8 || undefined,
        60_000,
        "eight heartbeat ticks",
      );
      const metrics = await Promise.all(urls.map(async (url) => (await call(`${url}/metrics`)).text));
      for (const server of servers) assert.equal((await server.stop()).code, 0, server.tail());
      const rows = await adminQuery<{ idempotency_key: string }>(
        `SELECT idempotency_key FROM ${schema.name}.executions WHERE schedule_id = 'heartbeat' ORDER BY idempotency_key`,
      );
      const keys = rows.map((r) => r.idempotency_key);
      assert.ok(keys.length >= 8);
      assert.equal(new Set(keys).size, keys.length, "no tick has two executions");
      assert.ok(keys.every((k) => /^schedule:heartbeat:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/.test(k)));
      const started = metrics.map((text) =>
        Number(/zart_schedule_ticks_total\{schedule="heartbeat",outcome="started"\} (\d+)/.exec(text)?.[1] ?? 0),
      );
      // The metrics were read before the servers stopped; ticks fired after that only add executions.
      assert.ok(started[0]! + started[1]! <= keys.length);
      assert.ok(started[0]! + started[1]! >= 8, `started per server: ${started.join(", ")}`);
    } finally {
      for (const server of servers) await server.killHard();
    }
  });
});
