/**
 * Child starts across a deploy: a refused `startChild` replays as refused (it never starts a child later),
 * and a `startChild` record is not taken for a finished `runChild`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ChildFailedError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("startChild across a deploy", () => {
  test("a startChild refused with task_not_registered replays as refused after the child task is deployed", async () => {
    const seen: string[] = [];
    const parent = defineTask({
      name: "parent-flow",
      async run(ctx) {
        let started: string;
        try {
          started = await ctx.startChild("audit", "audit-task", {});
        } catch (error) {
          if (!(error instanceof ChildFailedError)) throw error;
          started = `refused:${error.code}`;
        }
        seen.push(started.startsWith("refused:") ? started : "started");
        await ctx.sleep("pause", "1m");
        await ctx.sleep("pause-2", "1m");
        return started;
      },
    });
    const child = defineTask({
      name: "audit-task",
      async run() {
        return "audited";
      },
    });
    const h = await createTestEngine({ tasks: [parent] });
    try {
      const { execution } = await h.engine.schedule({ task: "parent-flow", data: {} });
      await h.outcome(execution.id, "parked");
      assert.deepEqual(seen, ["refused:task_not_registered"]);
      // The deploy adds the child's task; the parent replays its refused start.
      await h.restart({ tasks: [parent, child] });
      h.clock.advance(60_000);
      await h.outcome(execution.id, "parked", 2);
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      const children = (await h.engine.list({ task: "audit-task", limit: 10, offset: 0, order: "asc" })).executions;
      assert.equal(children.length, 0, "a refused start never starts a child on a later replay");
      assert.deepEqual(seen, ["refused:task_not_registered", "refused:task_not_registered", "refused:task_not_registered"]);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "refused:task_not_registered");
      const detail = await h.engine.stepDetail(execution.id);
      const audit = detail.steps.find((s) => s.name === "audit");
      assert.equal(audit?.state, "failed");
    } finally {
      await h.close();
    }
  });

  test("a recorded startChild reached by runChild of the same name fails with nondeterminism, not an undefined result", async () => {
    const child = defineTask({
      name: "resize-task",
      async run() {
        return { url: "https://cdn.example.com/x.jpg" };
      },
    });
    const v1 = defineTask({
      name: "publish-flow",
      async run(ctx) {
        await ctx.startChild("resize", "resize-task", {});
        await ctx.sleep("pause", "1m");
        return null;
      },
    });
    const results: unknown[] = [];
    const v2 = defineTask({
      name: "publish-flow",
      async run(ctx) {
        const resized = await ctx.runChild<{ url: string }>("resize", "resize-task", {});
        results.push(resized);
        await ctx.sleep("pause", "1m");
        return resized;
      },
    });
    const h = await createTestEngine({ tasks: [v1, child] });
    try {
      const { execution } = await h.engine.schedule({ task: "publish-flow", data: {} });
      await h.outcome(execution.id, "parked");
      await h.restart({ tasks: [v2, child] });
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual(results, [], `runChild got a value from a startChild record: ${JSON.stringify(results)}`);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "nondeterminism");
    } finally {
      await h.close();
    }
  });
});
