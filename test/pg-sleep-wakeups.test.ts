/**
 * Many sleepers with different wake times, created by an API-only engine and run by a worker engine on
 * another store instance (another pool, another LISTEN connection) of one PostgreSQL: every one wakes by
 * its timer or a notice, never by the safety poll (one hour here, so finishing at all proves it). The
 * worker's timer remembers only the earliest wake-up, so each time it fires the worker reads the next one.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { TestSchema } from "./support/postgres.js";

const schema = new TestSchema("sleeps");
after(() => schema.drop());

test("8 executions sleeping 2 s and 16 sleeping 100-850 ms, started together, all wake", async () => {
  const nap = defineTask({
    name: "nap",
    async run(ctx, data: { ms: number }) {
      await ctx.sleep("nap", data.ms);
      return data.ms;
    },
  });
  const apiStore = await schema.open();
  const workerStore = await schema.open();
  const worker = await Engine.start({ store: workerStore, tasks: [nap], logger: silentLogger, worker: { safetyPollMs: 3_600_000 } });
  const api = await Engine.start({ store: apiStore, tasks: [], logger: silentLogger, worker: false });
  try {
    const sleeps = [...Array.from({ length: 8 }, () => 2000), ...Array.from({ length: 16 }, (_, i) => 100 + i * 50)];
    const ids = await Promise.all(sleeps.map(async (ms) => (await api.schedule({ task: "nap", data: { ms } })).execution.id));
    for (const id of ids) assert.equal((await api.waitForTerminal(id, 30_000)).status, "completed", id);
  } finally {
    await api.stop();
    await worker.stop();
    await apiStore.close();
    await workerStore.close();
  }
});
