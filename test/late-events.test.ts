/**
 * An event that arrives after its wait's deadline is refused by the store itself, whether or not a worker
 * has processed the timeout yet, and the execution observes the timeout.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventTimeoutError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

test("a late event is refused with a message saying the wait timed out; the execution sees the timeout", async () => {
  const task = defineTask({
    name: "deadline-wait",
    async run(ctx) {
      try {
        return await ctx.waitForEvent("answer", { timeout: "10m" });
      } catch (error) {
        if (error instanceof EventTimeoutError) return "timed out";
        throw error;
      }
    },
  });
  const h = await createTestEngine({ tasks: [task] });
  try {
    const { execution } = await h.engine.schedule({ task: "deadline-wait", data: {} });
    await h.outcome(execution.id, "parked");
    // No worker runs now: nobody processes the timeout.
    await h.restart({ worker: false });
    h.clock.advance(10 * 60_000);
    await assert.rejects(h.engine.deliverEvent(execution.id, "answer", '"late"'), {
      code: "not_waiting_for_event",
      message: /the wait timed out/,
    });
    await h.restart({ worker: {} });
    const done = await h.engine.waitForTerminal(execution.id, 1e9);
    assert.equal(JSON.parse(done.outputJson ?? "null"), "timed out");
  } finally {
    await h.close();
  }
});
