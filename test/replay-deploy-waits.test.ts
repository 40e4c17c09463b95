/**
 * Event waits across a deploy: a wait the new code no longer reaches stops accepting events once the
 * execution parks without it, instead of acknowledging events no code will read.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("a renamed event wait", () => {
  test("the old name is refused once the execution waits for the new one, not acknowledged and lost", async () => {
    const v1 = defineTask({
      name: "review-flow",
      async run(ctx) {
        const [decision] = await Promise.all([ctx.waitForEvent<string>("approval"), ctx.sleep("cooldown", "1m")]);
        return decision;
      },
    });
    const v2 = defineTask({
      name: "review-flow",
      async run(ctx) {
        const [decision] = await Promise.all([ctx.waitForEvent<string>("approval-v2"), ctx.sleep("cooldown", "1m")]);
        return decision;
      },
    });
    const h = await createTestEngine({ tasks: [v1] });
    try {
      const { execution } = await h.engine.schedule({ task: "review-flow", data: {} });
      await h.outcome(execution.id, "parked");
      await h.restart({ tasks: [v2] });
      h.clock.advance(60_000);
      // The sleep ended: the new code replays and parks on "approval-v2" only.
      await h.outcome(execution.id, "parked", 2);
      await assert.rejects(
        h.engine.deliverEvent(execution.id, "approval", '"yes"'),
        { code: "not_waiting_for_event" },
        "an event for a wait the code no longer reaches is refused",
      );
      assert.equal(await h.engine.deliverEvent(execution.id, "approval-v2", '"yes-v2"'), "delivered");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(JSON.parse(done.outputJson ?? "null"), "yes-v2");
      const detail = await h.engine.stepDetail(execution.id);
      assert.equal(detail.steps.find((s) => s.name === "approval")?.state, "closed");
    } finally {
      await h.close();
    }
  });
});
