/**
 * Schedule checks on PostgreSQL: a scheduler whose soonest due schedules (a full read batch)
 * are all ones it leaves to other processes (a keyed task no scheduler here runs) must still fire the
 * schedules due after them. Engines on separate pools of one schema and one ManualClock.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { defineTask } from "../src/core/task.js";
import { engineFleet } from "./support/engine-fleet.js";
import { TestSchema } from "./support/postgres.js";

const report = defineTask({ name: "report", run: () => "done" });
const perCustomer = defineTask({
  name: "per-customer",
  concurrency: { limit: 1, key: (data: { customer: string }) => data.customer },
  run: () => "done",
});

const schema = new TestSchema("sched_left");
after(() => schema.drop());

test("PostgreSQL: 100+ due schedules left to other processes do not starve a later schedule this process fires", async () => {
  const clock = new ManualClock();
  const fleet = engineFleet(() => schema.open(), clock);
  const start = fleet.start;
  try {
    // Registers the keyed task (and that its key is a function) but fires no ticks.
    await start({ tasks: [perCustomer], scheduler: false, worker: { concurrency: 1 } });
    const api = await start({ tasks: [report], worker: false });
    for (let i = 0; i < 120; i++) {
      const id = `customer-${String(i).padStart(3, "0")}`;
      await api.schedules.create({ schedule_id: id, task: "per-customer", cron: "* * * * *", data: { customer: id } });
    }
    // The engine's clock is the database's (the ManualClock plus an offset). The keyed ticks fall due first
    // (and stay due: nobody fires them); the plain schedule is made after that, so its tick is later.
    const keyedTick = (await api.schedules.get("customer-000")).nextTickAt as number;
    await api.schedules.settled();
    clock.advance(keyedTick - api.options.clock.now() + 5);
    await api.schedules.settled();
    await api.schedules.create({ schedule_id: "plain", task: "report", cron: "* * * * *" });
    const plainTick = (await api.schedules.get("plain")).nextTickAt as number;
    assert.ok(plainTick > keyedTick);
    await api.schedules.settled();
    clock.advance(plainTick - api.options.clock.now() + 5);
    await api.schedules.settled();
    for (let i = 0; i < 3; i++) {
      clock.advance(5_000);
      await api.schedules.settled();
    }
    const reports = (await api.list({ task: "report", limit: 10, offset: 0, order: "asc" })).executions;
    assert.deepEqual(
      reports.map((e) => e.idempotencyKey),
      [`schedule:plain:${new Date(plainTick).toISOString()}`],
      "the plain schedule's tick fired",
    );
    const keyed = (await api.list({ task: "per-customer", limit: 10, offset: 0, order: "asc" })).executions;
    assert.deepEqual(keyed, [], "the keyed ticks are left for a process that runs the task");
    assert.equal((await api.schedules.get("customer-000")).nextTickAt, keyedTick, "the keyed ticks are still due");
  } finally {
    await fleet.stop();
  }
});
