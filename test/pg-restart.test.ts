/**
 * The database restarts while work is in flight. This test runs its own private PostgreSQL (so the
 * shared test server is left alone), stops it (fast shutdown: every connection is cut) and starts it
 * again. Nothing depends on how fast the engine runs: a few executions hold their second step open until
 * the database is down, so they are certainly mid-step across the restart, and the step bodies log every
 * run. Checked: every execution acknowledged before or after completes with the right output; no step
 * recorded before the restart ever runs again; only steps in flight at the restart may run twice; the
 * LISTEN connection comes back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { startThrowawayPostgres } from "../scripts/throwaway-postgres.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { withTimeout } from "./support/child-process.js";
import { deferred } from "./support/deferred.js";
import { markPostgresRan } from "./support/postgres.js";

const CONCURRENCY = 10;
/** Executions (the first ones scheduled) whose step `b` waits until the database is down. */
const HELD = 4;
const STEPS = ["a", "b", "c"];

/** `<execution> <step>` for every run of a step body, in order: the side-effect log. */
const effects: string[] = [];
/** Counts arrivals and resolves `all` once `needed` have arrived. */
function arrivals(needed: number) {
  const all = deferred();
  let seen = 0;
  return {
    all: all.promise,
    arrive() {
      seen += 1;
      if (seen === needed) all.resolve();
    },
  };
}
const heldInStep = arrivals(HELD);
const heldReturned = arrivals(HELD);
const release = deferred();

const chain = defineTask({
  name: "restart-chain",
  async run(ctx, data: { i: number }) {
    let value = data.i;
    for (const name of STEPS) {
      value = await ctx.step(name, async () => {
        effects.push(`${ctx.executionId} ${name}`);
        if (name === "b" && data.i < HELD) {
          heldInStep.arrive();
          await release.promise;
          heldReturned.arrive();
        }
        await delay(2); // user work, so the other slots' executions are mid-step at the restart too
        return value + 1;
      });
    }
    return value;
  },
});

async function completedSteps(url: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ execution_id: string; name: string }>(
      "SELECT execution_id, name FROM restart.steps WHERE state = 'completed'",
    );
    return new Set(rows.map((row) => `${row.execution_id} ${row.name}`));
  } finally {
    await client.end();
  }
}

test("PostgreSQL restarts under load: reconnect, re-listen, and every acknowledged execution completes", {
  timeout: 120_000,
}, async (t) => {
  const server = await startThrowawayPostgres();
  const store = await openStore(`${server.url}?schema=restart`);
  markPostgresRan();
  const engine = await Engine.start({ store, tasks: [chain], worker: { concurrency: CONCURRENCY, safetyPollMs: 500 } });
  const acknowledged: Array<{ id: string; i: number }> = [];
  const schedule = async (from: number, count: number) => {
    for (let i = from; i < from + count; i++)
      acknowledged.push({ id: (await engine.schedule({ task: "restart-chain", data: { i } })).execution.id, i });
  };
  const reconnected = deferred();
  store.subscribe((notice) => {
    if (notice.kind === "reconnected") reconnected.resolve();
  });
  try {
    await schedule(0, 150);
    await withTimeout(heldInStep.all, 30_000, `the ${HELD} held executions to reach step b`);
    // Nothing recorded now may run again, whatever the restart does to the runs in flight.
    const recordedBefore = await completedSteps(server.url);
    // The held steps end while the database is down: their records are written across the outage.
    await server.restart(async () => {
      release.resolve();
      await withTimeout(heldReturned.all, 10_000, "the held steps to return while the database is down");
    });
    await schedule(150, 50); // the pool reconnects on demand
    for (const { id, i } of acknowledged) {
      const done = await engine.waitForTerminal(id, 60_000);
      assert.equal(done.status, "completed", `${id} completed`);
      assert.equal(JSON.parse(done.outputJson ?? "null"), i + 3);
    }
    const stats = await engine.stats();
    assert.equal(stats.completed, acknowledged.length);
    await withTimeout(reconnected.promise, 30_000, "the LISTEN connection to come back and say so");
    // And new work still runs after the restart.
    await schedule(200, 1);
    assert.equal((await engine.waitForTerminal(acknowledged.at(-1)!.id, 60_000)).status, "completed");

    const runs = new Map<string, number>();
    for (const key of effects) runs.set(key, (runs.get(key) ?? 0) + 1);
    for (const key of recordedBefore)
      assert.equal(runs.get(key), 1, `${key} was recorded before the restart, yet ran ${runs.get(key)} times`);
    for (const { id } of acknowledged) for (const step of STEPS) assert.ok(runs.has(`${id} ${step}`), `${id} ${step} ran`);
    for (const { id } of acknowledged.slice(0, HELD)) assert.ok(!recordedBefore.has(`${id} b`), `${id} b was mid-step at the restart`);
    // Each run in flight at the restart (one per worker slot, or one more for a slot that claimed during
    // the shutdown) may have run its current step twice; nothing else may.
    const reruns = effects.length - acknowledged.length * STEPS.length;
    assert.ok(reruns >= 0 && reruns <= 2 * CONCURRENCY, `re-runs: ${reruns}`);
    assert.equal(await completedSteps(server.url).then((s) => s.size), acknowledged.length * STEPS.length);
    t.diagnostic(`${recordedBefore.size} steps recorded before the restart; ${reruns} step(s) ran twice`);
  } finally {
    release.resolve();
    await engine.stop();
    await store.close();
    await server.stop();
  }
});
