/**
 * Concurrency limits: at most `limit` executions of a task (per key) run at once; the others stay
 * pending and start in order as slots free, woken without polling (the safety poll is an hour here);
 * waiting and sleeping executions hold no slot; `concurrency_key` on the request overrides the key.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { type Deferred, deferred } from "./support/deferred.js";

const LONG = 1e9;

describe("concurrency limits", () => {
  test("at most `limit` per key run at once; the rest start in order as slots free", async () => {
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const order: number[] = [];
    const gates = new Map<number, Deferred<void>>();
    const task = defineTask({
      name: "per-customer",
      concurrency: { limit: 2, key: (data: { customer: string; n: number }) => data.customer },
      async run(ctx, data: { customer: string; n: number }) {
        return ctx.step("work", async () => {
          const now = (running.get(data.customer) ?? 0) + 1;
          running.set(data.customer, now);
          peak.set(data.customer, Math.max(peak.get(data.customer) ?? 0, now));
          order.push(data.n);
          const gate = deferred();
          gates.set(data.n, gate);
          await gate.promise;
          running.set(data.customer, (running.get(data.customer) ?? 1) - 1);
          return data.n;
        });
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { concurrency: 10, safetyPollMs: 3_600_000 } });
    try {
      const ids: string[] = [];
      for (let n = 0; n < 6; n++) {
        ids.push((await h.engine.schedule({ task: "per-customer", data: { customer: "acme", n } })).execution.id);
        h.clock.advance(1); // creation order is to the millisecond
      }
      ids.push((await h.engine.schedule({ task: "per-customer", data: { customer: "globex", n: 100 } })).execution.id);
      // Release one at a time, always the oldest running, until all are done.
      for (let released = 0; released < 7; released++) {
        const next = await waitFor(() => [...gates.keys()].sort((a, b) => a - b)[0]);
        gates.get(next)?.resolve();
        gates.delete(next);
      }
      for (const id of ids) assert.equal((await h.engine.waitForTerminal(id, LONG)).status, "completed");
      assert.equal(peak.get("acme"), 2);
      assert.equal(peak.get("globex"), 1);
      assert.deepEqual(
        order.filter((n) => n < 100),
        [0, 1, 2, 3, 4, 5],
        "queued ones start in order",
      );
    } finally {
      for (const gate of gates.values()) gate.resolve();
      await h.close();
    }
  });

  test("a sleeping execution holds no slot; concurrency_key overrides the key function", async () => {
    const task = defineTask({
      name: "one-at-a-time",
      concurrency: { limit: 1, key: () => "everyone" },
      async run(ctx, data: { nap: boolean }) {
        if (data.nap) await ctx.sleep("nap", "1h");
        return data.nap ? "napped" : "quick";
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { safetyPollMs: 3_600_000 } });
    try {
      const sleeper = await h.engine.schedule({ task: "one-at-a-time", data: { nap: true } });
      await h.outcome(sleeper.execution.id, "parked");
      const quick = await h.engine.schedule({ task: "one-at-a-time", data: { nap: false } });
      assert.equal((await h.engine.waitForTerminal(quick.execution.id, LONG)).status, "completed", "ran while the other slept");
      const other = await h.engine.schedule({ task: "one-at-a-time", data: { nap: false }, concurrencyKey: "vip" });
      const row = await h.engine.get(other.execution.id);
      assert.deepEqual([row.concurrencyKey, row.concurrencyLimit], ["vip", 1]);
      assert.equal((await h.engine.waitForTerminal(other.execution.id, LONG)).status, "completed");
      h.clock.advance(3_600_000);
      assert.equal((await h.engine.waitForTerminal(sleeper.execution.id, LONG)).status, "completed");
    } finally {
      await h.close();
    }
  });
});

/** Polls a synchronous probe between macrotasks until it yields a value (the engine runs in between). */
async function waitFor<T>(probe: () => T | undefined, tries = 5000): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error("nothing came");
}
