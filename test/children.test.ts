/**
 * Child executions: `ctx.runChild` parks the parent (freeing its slot) until the child ends and returns
 * its output or throws a catchable error; `ctx.startChild` records the start and goes on. A child's start
 * is recorded in the same write as its row, so a replay never starts it twice; its data is checked like a
 * POST; cancelling a parent cancels its children unless they are detached.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ChildFailedError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";

const LONG = 1e9;

const double = defineTask({
  name: "double",
  input: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
  async run(ctx, data: { n: number }) {
    if (data.n < 0) throw new Error("negative input");
    return ctx.step("compute", () => data.n * 2);
  },
});

describe("child executions", () => {
  test("runChild returns the child's output; the parent waits parked, with the child's id recorded", async () => {
    const parent = defineTask({
      name: "parent",
      async run(ctx, data: { n: number }) {
        const doubled = await ctx.runChild("double-it", double, { n: data.n });
        return ctx.step("after", () => doubled + 1);
      },
    });
    const h = await createTestEngine({ tasks: [parent, double], worker: { concurrency: 1 } });
    try {
      const { execution } = await h.engine.schedule({ task: "parent", data: { n: 20 } });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(JSON.parse(done.outputJson ?? "null"), 41, "one slot: the parent freed it while its child ran");
      const record = (await h.engine.stepDetail(execution.id)).steps.find((s) => s.name === "double-it");
      assert.equal(record?.kind, "child");
      assert.equal(record?.state, "completed");
      const child = await h.engine.get(record?.childId as string);
      assert.deepEqual([child.task, child.parentId, child.parentStep, child.status], ["double", execution.id, "double-it", "completed"]);
    } finally {
      await h.close();
    }
  });

  test("a failed child throws a catchable ChildFailedError in the parent, the same on replay", async () => {
    const caught: string[] = [];
    const parent = defineTask({
      name: "tolerant",
      async run(ctx) {
        try {
          await ctx.runChild("bad-child", "double", { n: -1 });
          return "unexpected";
        } catch (error) {
          assert.ok(error instanceof ChildFailedError);
          caught.push(`${error.code}: ${error.message}`);
        }
        await ctx.sleep("pause", "1s");
        return "handled";
      },
    });
    const h = await createTestEngine({ tasks: [parent, double] });
    try {
      const { execution } = await h.engine.schedule({ task: "tolerant", data: {} });
      await h.outcome(execution.id, "parked", 2);
      h.clock.advance(1000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "handled");
      assert.equal(caught.length, 2, "caught on the first run and again on the replay after the sleep");
      assert.equal(caught[0], caught[1]);
      assert.match(caught[0] ?? "", /^child_failed: Child execution exec-\w+ failed: .*negative input/);
    } finally {
      await h.close();
    }
  });

  test("a child's data is checked like a POST; the refusal is recorded and catchable", async () => {
    const parent = defineTask({
      name: "sloppy-parent",
      async run(ctx) {
        try {
          await ctx.startChild("bad-data", "double", { n: "twenty" });
          return "started";
        } catch (error) {
          return (error as ChildFailedError).code;
        }
      },
    });
    const h = await createTestEngine({ tasks: [parent, double] });
    try {
      const { execution } = await h.engine.schedule({ task: "sloppy-parent", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "invalid_data");
      const record = (await h.engine.stepDetail(execution.id)).steps.find((s) => s.name === "bad-data");
      assert.deepEqual([record?.state, record?.error?.code, record?.childId], ["failed", "invalid_data", null]);
      assert.equal((await h.engine.list({ task: "double", limit: 10, offset: 0, order: "asc" })).total, 0, "no child was created");
    } finally {
      await h.close();
    }
  });

  test("a replay never starts a child twice: its start is recorded with its row", async () => {
    const parent = defineTask({
      name: "starter",
      async run(ctx) {
        const id = await ctx.startChild("kick-off", "double", { n: 1 });
        await ctx.sleep("later", "1m");
        return id;
      },
    });
    const h = await createTestEngine({ tasks: [parent, double] });
    try {
      const { execution } = await h.engine.schedule({ task: "starter", data: {} });
      await h.outcome(execution.id, "parked");
      await h.restart();
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      const childId = JSON.parse(done.outputJson ?? "null") as string;
      const children = await h.engine.list({ task: "double", limit: 10, offset: 0, order: "asc" });
      assert.deepEqual(
        children.executions.map((e) => e.id),
        [childId],
        "exactly one child, the one the replay returned",
      );
    } finally {
      await h.close();
    }
  });

  test("cancelling a parent cancels its children, but not a detached one", async () => {
    const gate = deferred();
    const hold = defineTask({
      name: "hold",
      async run(ctx) {
        return ctx.step("hold", async ({ signal }) => {
          await Promise.race([gate.promise, new Promise((resolve) => signal.addEventListener("abort", resolve))]);
          return "released";
        });
      },
    });
    const parent = defineTask({
      name: "family",
      async run(ctx) {
        await ctx.startChild("detached", "hold", {}, { detached: true });
        return ctx.runChild("attached", "hold", {});
      },
    });
    const h = await createTestEngine({ tasks: [parent, hold], worker: { concurrency: 4 } });
    try {
      const { execution } = await h.engine.schedule({ task: "family", data: {} });
      await h.outcome(execution.id, "parked");
      const steps = (await h.engine.stepDetail(execution.id)).steps;
      const childOf = (name: string) => steps.find((s) => s.name === name)?.childId as string;
      await h.engine.cancel(execution.id);
      assert.equal((await h.engine.waitForTerminal(childOf("attached"), LONG)).status, "cancelled");
      assert.equal((await h.engine.get(childOf("detached"))).status, "running", "the detached child goes on");
      gate.resolve();
      assert.equal((await h.engine.waitForTerminal(childOf("detached"), LONG)).status, "completed");
      assert.equal((await h.engine.get(execution.id)).status, "cancelled");
    } finally {
      gate.resolve();
      await h.close();
    }
  });
});
