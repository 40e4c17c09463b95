/**
 * A schedule of a task whose concurrency key comes from a function: only a process that runs the task can
 * compute its executions' group, so an API-only process leaves the ticks to such a process instead of
 * starting them in the task-wide group (where they would run beside the key's own, past its limit).
 * Two engines on one SQLite file and one ManualClock.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { defineTask } from "../src/core/task.js";
import { openStore } from "../src/store/open-store.js";
import { engineFleet } from "./support/engine-fleet.js";

const MINUTE = 60_000;
const T0 = Date.parse("2026-01-10T12:00:00Z");

const perCustomer = defineTask({
  name: "per-customer",
  concurrency: { limit: 1, key: (data: { customer: string }) => data.customer },
  run: () => "done",
});

const dir = mkdtempSync(join(tmpdir(), "zart-keyed-schedules-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("an API-only engine leaves a keyed task's ticks to an engine that runs the task, which starts them in the key's group", async () => {
  const path = join(dir, "zart.db");
  const clock = new ManualClock(T0);
  const fleet = engineFleet(() => openStore(path), clock);
  const start = fleet.start;
  try {
    // Registers the task (and that its key is a function); fires no ticks, runs nothing due.
    await start({ tasks: [perCustomer], scheduler: false, worker: { concurrency: 1 } });
    const api = await start({ worker: false });
    await api.schedules.create({
      schedule_id: "acme",
      task: "per-customer",
      cron: "* * * * *",
      data: { customer: "acme" },
      overlap: "allow",
    });
    clock.advance(MINUTE + 1);
    await api.schedules.settled();
    const list = async () => (await api.list({ task: "per-customer", limit: 10, offset: 0, order: "asc" })).executions;
    assert.deepEqual(await list(), [], "the API-only engine started nothing");

    const worker = await start({ tasks: [perCustomer], worker: false });
    await worker.schedules.settled();
    const started = await list();
    assert.equal(started.length, 1, "the engine that runs the task fired the tick");
    assert.equal(started[0]?.concurrencyKey, "acme");
  } finally {
    await fleet.stop();
  }
});
