/**
 * Terminal notices reach other processes only while one of them waits (src/store/postgres/watch-presence.ts).
 * A worker engine and an API-only engine on two store instances (two pools, two LISTEN connections) of one
 * PostgreSQL; the API engine's clock is a ManualClock that never moves, so its waits never time out and its
 * safety checks never run: a wait that ends was woken by the end's notice. Without waiters, the worker's
 * ends are not published. The same for a `buffer_one` schedule tick held in one process while a worker in
 * another ends the previous execution: the holder's clock moves only when the test moves it, so only the
 * notice releases it.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineSchedule } from "../src/core/schedule.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import type { Notice } from "../src/store/store.js";
import { adminQuery, TestSchema } from "./support/postgres.js";
import { heldStepTask } from "./support/test-tasks.js";

const schema = new TestSchema("watched");
after(() => schema.drop());

test("a wait in another process is woken by the end's notice; ends nobody waits for stay in their process", {
  timeout: 60_000,
}, async () => {
  const { task, started, gate } = heldStepTask("held");
  const quick = defineTask({ name: "quick", run: () => "ok" });
  const workerStore = await schema.open();
  const apiStore = await schema.open({ watchLingerMs: 0 });
  const worker = await Engine.start({ store: workerStore, tasks: [task, quick], logger: silentLogger, worker: { eagerStart: false } });
  const api = await Engine.start({ store: apiStore, tasks: [], clock: new ManualClock(Date.now()), logger: silentLogger, worker: false });
  const onApi: Notice[] = [];
  const onWorker: Notice[] = [];
  const unsubscribe = [apiStore.subscribe((n) => onApi.push(n)), workerStore.subscribe((n) => onWorker.push(n))];
  try {
    // Waiting before the end: only the notice can end this wait.
    const { execution } = await api.schedule({ task: "held", data: {} });
    await started.promise;
    const waiting = api.waitForTerminal(execution.id, 60_000);
    await untilWatchedBy(1);
    gate.resolve();
    assert.equal((await waiting).status, "completed");

    // The wait is over (no linger): nobody watches, and the worker's next end stays in its process.
    await untilWatchedBy(0);
    const unseen = (await api.schedule({ task: "quick", data: {} })).execution.id;
    await until(() => onWorker.some((n) => n.kind === "terminal" && n.executionId === unseen));
    // Notifications arrive in commit order: once the API hears a row created after that end, it would have
    // heard the end too.
    const inAnHour = Date.now() + 3_600_000;
    await worker.schedule({ task: "quick", data: {}, startAt: new Date(inAnHour).toISOString() });
    await until(() => onApi.some((n) => n.kind === "runnable" && n.at > inAnHour - 600_000));
    assert.deepEqual(
      onApi.filter((n) => n.kind === "terminal" && n.executionId === unseen),
      [],
      "an end nobody waited for was not published",
    );
  } finally {
    gate.resolve();
    for (const stop of unsubscribe) stop();
    await api.stop();
    await worker.stop();
    await apiStore.close();
    await workerStore.close();
  }
});

test("a schedule tick held in one process is released by a worker's end in another", { timeout: 60_000 }, async () => {
  const { task, started, gate } = heldStepTask("held-tick");
  const schedule = defineSchedule({ schedule_id: "held-tick", task, cron: "* * * * *", overlap: "buffer_one" });
  const clock = new ManualClock(Date.now());
  const tickerStore = await schema.open({ watchLingerMs: 0 });
  const workerStore = await schema.open();
  const ticker = await Engine.start({
    store: tickerStore,
    tasks: [task],
    clock,
    logger: silentLogger,
    worker: false,
    schedules: [schedule],
  });
  // A tick's execution is due at the ticker's "now", up to a minute ahead of the database's clock: the worker
  // shares the ticker's clock, or it would wait for the real time to reach the tick. Its lease outlasts the
  // clock's moves, so the held run is never taken for a lost one.
  const worker = await Engine.start({
    store: workerStore,
    tasks: [task],
    clock,
    logger: silentLogger,
    scheduler: false,
    worker: { leaseMs: 600_000 },
  });
  const passTick = async (at: number) => {
    await ticker.schedules.settled();
    clock.advance(at - ticker.options.clock.now() + 5);
    await ticker.schedules.settled();
  };
  const runs = async () => (await tickerStore.listExecutions({ task: "held-tick", limit: 10, offset: 0, order: "asc" })).executions;
  try {
    const first = (await ticker.schedules.get("held-tick")).nextTickAt as number;
    await passTick(first);
    await started.promise;
    await passTick(first + 60_000);
    assert.equal((await ticker.schedules.get("held-tick")).heldTickAt, first + 60_000, "the second tick is held");
    await untilWatchedBy(1);
    gate.resolve();
    for (;;) {
      const executions = await runs();
      if (executions.length === 2) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await ticker.schedules.get("held-tick")).heldTickAt, null);
  } finally {
    gate.resolve();
    await worker.stop();
    await ticker.stop();
    await workerStore.close();
    await tickerStore.close();
  }
});

/** Until `n` sessions hold this schema's watch lock shared (a waiting process's LISTEN connection holds it once). */
async function untilWatchedBy(n: number): Promise<void> {
  const held = async () =>
    (
      await adminQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 1515870812 AND mode = 'ShareLock'
           AND granted AND objid::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`,
        [`"${schema.name}"`],
      )
    )[0]?.n;
  while ((await held()) !== n) await new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
