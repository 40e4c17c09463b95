/**
 * A due row that a claim skips because another transaction holds its lock (SKIP LOCKED) is claimed as soon
 * as the lock goes, not at the safety poll: the worker looks again shortly, backing off while the lock
 * stays. The worker's safety poll here is one hour, so finishing at all proves it.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { TestSchema, testDatabaseUrl } from "./support/postgres.js";

const schema = new TestSchema("lockwake");
after(() => schema.drop());

test("a claim that skipped a locked due row claims it once the lock is released", async () => {
  const task = defineTask({ name: "locked", run: () => "ran" });
  const store = await schema.open();
  const engine = await Engine.start({ store, tasks: [task], logger: silentLogger, worker: { safetyPollMs: 3_600_000, eagerStart: false } });
  const holder = new pg.Client({ connectionString: testDatabaseUrl() });
  await holder.connect();
  try {
    // Due a little later, so the lock below is in place when the worker's timer fires.
    const startAt = new Date(engine.options.clock.now() + 1500).toISOString();
    const { execution } = await engine.schedule({ task: "locked", data: {}, startAt });
    await holder.query("BEGIN");
    await holder.query(`SELECT id FROM ${schema.name}.executions WHERE id = $1 FOR UPDATE`, [execution.id]);
    // Hold the lock past the due time, so the timer's claim meets it; then let go.
    const row = await store.getExecution(execution.id);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (row?.runnableAt ?? 0) - engine.options.clock.now()) + 300));
    assert.equal((await store.getExecution(execution.id))?.status, "pending", "still not claimed while locked");
    await holder.query("COMMIT");
    const done = await engine.waitForTerminal(execution.id, 20_000);
    assert.equal(done.status, "completed");
  } finally {
    await holder.end();
    await engine.stop();
    await store.close();
  }
});
