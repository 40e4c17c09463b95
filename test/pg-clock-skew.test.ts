/**
 * Machines whose clocks disagree share one PostgreSQL: every time written or compared there is on the
 * database's clock (each engine measures its offset at start, src/engine/synced-clock.ts), so a worker
 * whose clock runs 40 s ahead does not take a healthy lease, and an API server 5 s ahead does not delay
 * the executions it creates. Injected (manual) clocks stand for the machines' clocks.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { TestSchema } from "./support/postgres.js";
import { heldStepTask } from "./support/test-tasks.js";

const schema = new TestSchema("skew");
after(() => schema.drop());
const START = Date.parse("2026-06-01T12:00:00Z");

test("a worker 40 s ahead does not take a healthy lease; a run on the slow machine finishes alone", async () => {
  const { task, started, gate, runs } = heldStepTask("held");
  const storeA = await schema.open();
  const storeB = await schema.open();
  const slow = new ManualClock(START);
  const fast = new ManualClock(START + 40_000);
  const a = await Engine.start({
    store: storeA,
    tasks: [task],
    clock: slow,
    logger: silentLogger,
    worker: { leaseMs: 30_000, eagerStart: false },
  });
  const b = await Engine.start({ store: storeB, tasks: [task], clock: fast, logger: silentLogger, worker: { leaseMs: 30_000 } });
  try {
    const { execution } = await a.schedule({ task: "held", data: {} });
    await started.promise;
    // On B's own clock A's lease ended 10 s ago; on the database's it has 30 s left. B looks now.
    const claimed = await storeB.claim({ workerId: "b", tasks: ["held"], limit: 10, now: b.options.clock.now(), leaseMs: 30_000 });
    assert.deepEqual(claimed.claimed, [], "B takes nothing");
    gate.resolve();
    const done = await a.waitForTerminal(execution.id, 30_000);
    assert.equal(done.status, "completed");
    assert.deepEqual(runs, [execution.id], "the step ran once");
  } finally {
    gate.resolve();
    await b.stop();
    await a.stop();
    await storeB.close();
    await storeA.close();
  }
});

test("an API server 5 s ahead: its new executions are due at once for a worker on time", async () => {
  const task = defineTask({ name: "quick", run: () => "ok" });
  const apiStore = await schema.open();
  const workerStore = await schema.open();
  const api = await Engine.start({
    store: apiStore,
    tasks: [],
    clock: new ManualClock(START + 5_000),
    logger: silentLogger,
    worker: false,
  });
  await workerStore.registerTasks("w", [{ name: "quick", inputSchemaJson: null, options: {} }], START);
  const worker = await Engine.start({ store: workerStore, tasks: [task], clock: new ManualClock(START), logger: silentLogger });
  try {
    const { execution } = await api.schedule({ task: "quick", data: {} });
    // Neither clock moves: were the row due 5 s later on the worker's clock, it would never run here.
    const done = await worker.waitForTerminal(execution.id, 30_000);
    assert.equal(done.status, "completed");
  } finally {
    await worker.stop();
    await api.stop();
    await workerStore.close();
    await apiStore.close();
  }
});
