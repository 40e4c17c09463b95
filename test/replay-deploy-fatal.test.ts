/**
 * A definition error the workflow catches (changed code met a record of another kind, a name used twice)
 * still fails the execution, and no step runs after it: the replay that raised it cannot be trusted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("a caught definition error", () => {
  test("nondeterminism caught by the workflow: no later step runs, the execution fails with it", async () => {
    const charged: string[] = [];
    const v1 = defineTask({
      name: "order-flow",
      async run(ctx) {
        const approved = await ctx.waitForEvent<boolean>("approval");
        return approved;
      },
    });
    const v2 = defineTask({
      name: "order-flow",
      async run(ctx) {
        let approved = false;
        try {
          approved = await ctx.step("approval", () => true);
        } catch {
          approved = true; // a broad catch: "treat any trouble as approved"
        }
        if (approved) await ctx.step("charge", () => charged.push("charged"));
        return approved;
      },
    });
    const h = await createTestEngine({ tasks: [v1] });
    try {
      const { execution } = await h.engine.schedule({ task: "order-flow", data: {} });
      await h.outcome(execution.id, "parked");
      await h.restart({ tasks: [v2] });
      await h.engine.deliverEvent(execution.id, "approval", "false");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "nondeterminism");
      assert.deepEqual(charged, [], "no step ran after the replay stopped being trustworthy");
    } finally {
      await h.close();
    }
  });

  test("a step started beside the call that met changed code does not run its function", async () => {
    const charged: string[] = [];
    const v1 = defineTask({
      name: "pair-flow",
      async run(ctx) {
        return ctx.waitForEvent<boolean>("approval");
      },
    });
    const v2 = defineTask({
      name: "pair-flow",
      async run(ctx) {
        const outcomes = await Promise.allSettled([ctx.step("charge", () => charged.push("charged")), ctx.step("approval", () => true)]);
        return outcomes.map((o) => o.status);
      },
    });
    const h = await createTestEngine({ tasks: [v1] });
    try {
      const { execution } = await h.engine.schedule({ task: "pair-flow", data: {} });
      await h.outcome(execution.id, "parked");
      await h.restart({ tasks: [v2] });
      await h.engine.deliverEvent(execution.id, "approval", "true");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "nondeterminism");
      assert.deepEqual(charged, [], "the sibling step's function never ran");
    } finally {
      await h.close();
    }
  });

  test("duplicate_step_name caught by the workflow: the step after it does not run", async () => {
    const shipped: number[] = [];
    const task = defineTask({
      name: "loop-flow",
      async run(ctx) {
        for (const i of [1, 1]) {
          try {
            await ctx.step(`charge-${i}`, () => i);
          } catch {
            // ignored
          }
        }
        await ctx.step("ship", () => shipped.push(1));
        return "done";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "loop-flow", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "duplicate_step_name");
      assert.deepEqual(shipped, [], "the step after the caught error did not run");
    } finally {
      await h.close();
    }
  });
});
