/**
 * A rerun stays in its source's concurrency group. A rerun is "a new execution of the same
 * task" with the old data; it kept the source's priority but recomputed the concurrency key, so an
 * execution scheduled with an explicit `concurrency_key` (as docs/concurrency.md tells callers of an
 * API-only server to do) was rerun in another group (the task-wide one, or the key function's) and could
 * run beside the executions of its own group, past the limit.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

const syncCustomer = defineTask({
  name: "sync-customer",
  concurrency: { limit: 1, key: (data: { customer: string }) => data.customer },
  async run(ctx, data: { customer: string }) {
    return ctx.step("pull", async () => data.customer);
  },
});

test("a rerun keeps the concurrency key its source was scheduled with", async () => {
  const h = await createTestEngine({ tasks: [syncCustomer], worker: { safetyPollMs: 3_600_000 } });
  try {
    const source = await h.engine.schedule({ task: "sync-customer", data: { customer: "acme" }, concurrencyKey: "acme-eu" });
    assert.equal((await h.engine.waitForTerminal(source.execution.id, LONG)).status, "completed");
    const rerun = await h.engine.rerun(source.execution.id);
    assert.deepEqual(
      [rerun.execution.concurrencyKey, rerun.execution.concurrencyLimit],
      ["acme-eu", 1],
      "the rerun is in its source's group",
    );
    assert.equal((await h.engine.waitForTerminal(rerun.execution.id, LONG)).status, "completed");
  } finally {
    await h.close();
  }
});

test("a rerun through an API-only engine keeps the key the request gave (no key function there)", async () => {
  const h = await createTestEngine({ tasks: [syncCustomer], worker: { safetyPollMs: 3_600_000 } });
  const api = await Engine.start({ store: h.store, tasks: [], clock: h.clock, logger: silentLogger, worker: false });
  try {
    const source = await api.schedule({ task: "sync-customer", data: { customer: "acme" }, concurrencyKey: "acme" });
    assert.equal((await api.waitForTerminal(source.execution.id, LONG)).status, "completed");
    const rerun = await api.rerun(source.execution.id);
    assert.deepEqual(
      [rerun.execution.concurrencyKey, rerun.execution.concurrencyLimit],
      ["acme", 1],
      "not the task-wide group: it would run beside acme's other syncs",
    );
    assert.equal((await api.waitForTerminal(rerun.execution.id, LONG)).status, "completed");
  } finally {
    await api.stop();
    await h.close();
  }
});
