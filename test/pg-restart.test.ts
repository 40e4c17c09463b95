/**
 * The database restarts while work is in flight. This test runs its own private PostgreSQL (so the
 * shared test server is left alone), stops it (fast shutdown: every connection is cut) and starts it
 * again; every execution acknowledged before or after completes, and nothing runs twice in a way a
 * recorded result could see.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startThrowawayPostgres } from "../scripts/throwaway-postgres.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { markPostgresRan } from "./support/postgres.js";

const chain = defineTask({
  name: "restart-chain",
  async run(ctx, data: { i: number }) {
    let value = data.i;
    for (const name of ["a", "b", "c"]) {
      value = await ctx.step(name, async () => {
        await delay(2); // user work, so executions are mid-step when the database goes away
        return value + 1;
      });
    }
    return value;
  },
});

test("PostgreSQL restarts under load: reconnect, re-listen, and every acknowledged execution completes", { timeout: 120_000 }, async () => {
  const pg = await startThrowawayPostgres();
  markPostgresRan();
  const store = await openStore(`${pg.url}?schema=restart`);
  const engine = await Engine.start({ store, tasks: [chain], worker: { concurrency: 10, safetyPollMs: 500 } });
  const acknowledged: Array<{ id: string; i: number }> = [];
  const schedule = async (from: number, count: number) => {
    for (let i = from; i < from + count; i++)
      acknowledged.push({ id: (await engine.schedule({ task: "restart-chain", data: { i } })).execution.id, i });
  };
  let reconnected = 0;
  store.subscribe((notice) => {
    if (notice.kind === "reconnected") reconnected += 1;
  });
  try {
    await schedule(0, 150);
    const before = await engine.stats();
    assert.ok(before.completed < 150, `work is in flight when the database goes down (${before.completed} done)`);
    await pg.restart();
    await schedule(150, 50); // the pool reconnects on demand
    for (const { id, i } of acknowledged) {
      const done = await engine.waitForTerminal(id, 60_000);
      assert.equal(done.status, "completed", `${id} completed`);
      assert.equal(JSON.parse(done.outputJson ?? "null"), i + 3);
    }
    const stats = await engine.stats();
    assert.equal(stats.completed, acknowledged.length);
    assert.ok(reconnected >= 1, "the LISTEN connection came back and said so");
    // And new work still runs after the restart.
    await schedule(200, 1);
    assert.equal((await engine.waitForTerminal(acknowledged.at(-1)!.id, 60_000)).status, "completed");
  } finally {
    await engine.stop();
    await store.close();
    await pg.stop();
  }
});
