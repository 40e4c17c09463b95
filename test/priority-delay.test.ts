/**
 * Delayed start and priority: an execution with `start_at` stays pending until then; claims take due work
 * by priority (higher first), then by due time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("delayed start and priority", () => {
  test("start_at: pending until then, then runs", async () => {
    const task = defineTask({ name: "later", run: () => "ran" });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const startAt = new Date(h.clock.now() + 60_000).toISOString();
      const { execution } = await h.engine.schedule({ task: "later", data: {}, startAt });
      const row = await h.engine.get(execution.id);
      assert.deepEqual([row.status, row.startAt, row.runnableAt], ["pending", h.clock.now() + 60_000, h.clock.now() + 60_000]);
      h.clock.advance(59_999);
      assert.equal((await h.engine.waitForTerminal(execution.id, 0)).status, "pending", "not before its time");
      h.clock.advance(1);
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      // Text Date.parse would read (a bare year, a local time, prose) is no RFC 3339 date-time either.
      for (const startAt of ["tomorrow", "123", "1", "2099-01-01 10:00", "January 1, 2099", "2099-01-01"]) {
        await assert.rejects(
          h.engine.schedule({ task: "later", data: {}, startAt }),
          { code: "invalid_data", message: /start_at/ },
          startAt,
        );
      }
      const offset = await h.engine.schedule({ task: "later", data: {}, startAt: "2099-01-01T10:00:00+02:00" });
      assert.equal((await h.engine.get(offset.execution.id)).startAt, Date.parse("2099-01-01T08:00:00Z"), "an offset is honoured");
    } finally {
      await h.close();
    }
  });

  test("claims take due work by priority, then due time", async () => {
    const order: string[] = [];
    const task = defineTask({
      name: "ranked",
      run: (ctx, data: { label: string }) => ctx.step("record", () => order.push(data.label)),
    });
    const h = await createTestEngine({ tasks: [task], worker: false });
    try {
      const queue: Array<[string, number]> = [
        ["low", -5],
        ["plain-1", 0],
        ["high-1", 10],
        ["plain-2", 0],
        ["mid", 3],
        ["high-2", 10],
      ];
      for (const [label, priority] of queue) {
        await h.engine.schedule({ task: "ranked", data: { label }, priority });
        h.clock.advance(1);
      }
      await assert.rejects(h.engine.schedule({ task: "ranked", data: { label: "x" }, priority: 1.5 }), { code: "invalid_data" });
      // One at a time, so the claim order is the run order.
      await h.restart({ worker: { concurrency: 1, prefetch: 0 } });
      await h.log.waitFor((o) => o.outcome === "completed", queue.length);
      assert.deepEqual(order, ["high-1", "high-2", "mid", "plain-1", "plain-2", "low"]);
    } finally {
      await h.close();
    }
  });
});
