/**
 * Schedule checks on SQLite with a ManualClock: what `cron` accepts (a date is not a cron
 * expression), and a scheduler whose first due schedules are all ones it leaves to other processes (a keyed
 * task no process here runs) must still fire the rest.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { ZartError } from "../src/core/errors.js";
import { silentLogger } from "../src/core/logger.js";
import { defineSchedule } from "../src/core/schedule.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { engineFleet } from "./support/engine-fleet.js";
import { serveInProcess } from "./support/in-process-server.js";

const MINUTE = 60_000;
const T0 = Date.parse("2026-01-10T12:00:00Z");

const report = defineTask({ name: "report", run: () => "done" });
const perCustomer = defineTask({
  name: "per-customer",
  concurrency: { limit: 1, key: (data: { customer: string }) => data.customer },
  run: () => "done",
});

const dir = mkdtempSync(join(tmpdir(), "zart-schedules-left-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Not cron expressions; croner reads a text with a ":" as a one-off date (or fails on it). */
const NOT_CRON = ["2026-01-10T12:00:00Z", "2030-01-01T00:00:00Z", "2030-06-01T00:00:00", "1 2:3"];

test("a date (or any text with a ':') is not a cron expression: 422 over HTTP, invalid_data from the engine, TypeError from defineSchedule", async () => {
  const clock = new ManualClock(T0);
  const store = await openStore(":memory:");
  const engine = await Engine.start({ store, tasks: [report], clock, logger: silentLogger });
  const { api, server } = await serveInProcess(engine);
  try {
    for (const [i, cron] of NOT_CRON.entries()) {
      const response = await fetch(`${api}/schedules`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ schedule_id: `d${i}`, task: "report", cron }),
      });
      const body = (await response.json()) as { error?: { code: string; message: string } };
      assert.equal(response.status, 422, `cron ${JSON.stringify(cron)}: ${JSON.stringify(body)}`);
      assert.equal(body.error?.code, "invalid_data");
      assert.match(body.error?.message ?? "", /cron/);
      await assert.rejects(
        engine.schedules.create({ schedule_id: `e${i}`, task: "report", cron }),
        (error: unknown) => error instanceof ZartError && error.code === "invalid_data",
      );
      assert.throws(() => defineSchedule({ schedule_id: `f${i}`, task: "report", cron }), TypeError);
    }
    assert.deepEqual(await engine.schedules.list(), []);
  } finally {
    await server.app.close();
    await engine.stop();
    await store.close();
  }
});

test("100+ due schedules left to other processes (a keyed task nobody here runs) do not starve a later schedule this process fires", async () => {
  const path = join(dir, "starve.db");
  const clock = new ManualClock(T0);
  const fleet = engineFleet(() => openStore(path), clock);
  const start = fleet.start;
  try {
    // Registers the keyed task (and that its key is a function), but fires no ticks: no scheduler fires them.
    await start({ tasks: [perCustomer], scheduler: false, worker: { concurrency: 1 } });
    const api = await start({ tasks: [report], worker: false });
    for (let i = 0; i < 120; i++) {
      const id = `customer-${String(i).padStart(3, "0")}`;
      await api.schedules.create({ schedule_id: id, task: "per-customer", cron: "* * * * *", data: { customer: id } });
    }
    await api.schedules.create({ schedule_id: "plain", task: "report", cron: "*/5 * * * *" });
    await api.schedules.settled();
    clock.advance(5 * MINUTE);
    await api.schedules.settled();
    // And a few polls later, in case the first pass only looked at the keyed ones.
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await api.schedules.settled();
    }
    const reports = (await api.list({ task: "report", limit: 10, offset: 0, order: "asc" })).executions;
    assert.deepEqual(
      reports.map((e) => e.idempotencyKey),
      [`schedule:plain:${new Date(T0 + 5 * MINUTE).toISOString()}`],
      "the plain schedule's tick fired",
    );
    const keyed = (await api.list({ task: "per-customer", limit: 10, offset: 0, order: "asc" })).executions;
    assert.deepEqual(keyed, [], "the keyed ticks are left for a process that runs the task");
    // Overdue since T0 + 1 min: the one catch-up tick (the latest at or before now) first, then ticks to come.
    const now = clock.now();
    const shown = (await api.schedules.get("customer-000")).nextFireTimes;
    const lastMinute = now - (now % MINUTE);
    assert.deepEqual(
      shown,
      [0, 1, 2, 3, 4].map((k) => lastMinute + k * MINUTE),
    );
  } finally {
    await fleet.stop();
  }
});
