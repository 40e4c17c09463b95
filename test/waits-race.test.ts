/**
 * Durable waits combined with Promise.race and Promise.all: the run parks only when nothing can go on,
 * with every open wait recorded, so any of them can receive what it waits for; a race's losing wait is
 * closed (recorded as such) when the execution ends.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("Promise.race over durable waits", () => {
  test("first of several events: the other wait is closed, the step after the race runs", async () => {
    let after = 0;
    const task = defineTask({
      name: "decide",
      async run(ctx) {
        const decision = await Promise.race([
          ctx.waitForEvent<{ by: string }>("approve").then((p) => ({ approved: true, by: p.by })),
          ctx.waitForEvent<{ by: string }>("reject").then((p) => ({ approved: false, by: p.by })),
        ]);
        await ctx.step("notify", () => ++after);
        return decision;
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "decide", data: {} });
      await h.outcome(execution.id, "parked");
      const waits = (await h.engine.stepDetail(execution.id)).steps.map((s) => [s.name, s.state]);
      assert.deepEqual(waits, [
        ["approve", "waiting"],
        ["reject", "waiting"],
      ]);
      await h.engine.deliverEvent(execution.id, "approve", '{"by":"jane"}');
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { approved: true, by: "jane" });
      assert.equal(after, 1);
      const steps = Object.fromEntries((await h.engine.stepDetail(execution.id)).steps.map((s) => [s.name, s.state]));
      assert.deepEqual(steps, { approve: "completed", reject: "closed", notify: "completed" });
      await assert.rejects(h.engine.deliverEvent(execution.id, "reject", "{}"), { code: "not_waiting_for_event" });
    } finally {
      await h.close();
    }
  });

  test("event or deadline: the event wins without waiting out the deadline, and the sleep is closed", async () => {
    const task = defineTask({
      name: "deadline",
      async run(ctx) {
        const outcome = await Promise.race([ctx.waitForEvent("go").then(() => "went"), ctx.sleep("deadline", "1h").then(() => "expired")]);
        return await ctx.step("record", () => outcome);
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "deadline", data: {} });
      await h.outcome(execution.id, "parked");
      const parked = await h.engine.get(execution.id);
      assert.equal(parked.runnableAt, h.clock.now() + 3_600_000, "wakes at the deadline at the latest");
      assert.equal(parked.waitingForEvent, "go");
      await h.engine.deliverEvent(execution.id, "go", "null");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "went");
      const steps = Object.fromEntries((await h.engine.stepDetail(execution.id)).steps.map((s) => [s.name, s.state]));
      assert.deepEqual(steps, { go: "completed", deadline: "closed", record: "completed" });
    } finally {
      await h.close();
    }
  });

  test("event or deadline: the deadline wins when the event does not come", async () => {
    const task = defineTask({
      name: "deadline-wins",
      async run(ctx) {
        return Promise.race([ctx.waitForEvent("go").then(() => "went"), ctx.sleep("deadline", "1h").then(() => "expired")]);
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "deadline-wins", data: {} });
      await h.outcome(execution.id, "parked");
      h.clock.advance(3_600_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "expired");
      await assert.rejects(h.engine.deliverEvent(execution.id, "go", "null"), { code: "not_waiting_for_event" });
    } finally {
      await h.close();
    }
  });
});

describe("parallel waits", () => {
  test("Promise.all over two events: both waits are open and each accepts its event, even back to back", async () => {
    const task = defineTask({
      name: "both",
      async run(ctx) {
        const [a, b] = await Promise.all([ctx.waitForEvent<number>("a"), ctx.waitForEvent<number>("b")]);
        return a + b;
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { concurrency: 1 } });
    try {
      const { execution } = await h.engine.schedule({ task: "both", data: {} });
      await h.outcome(execution.id, "parked");
      const open = (await h.engine.stepDetail(execution.id)).steps.map((s) => [s.name, s.state]);
      assert.deepEqual(open, [
        ["a", "waiting"],
        ["b", "waiting"],
      ]);
      // The second event arrives while the first one's resumption is pending or running.
      await h.engine.deliverEvent(execution.id, "a", "2");
      await h.engine.deliverEvent(execution.id, "b", "40");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(JSON.parse(done.outputJson ?? "null"), 42);
    } finally {
      await h.close();
    }
  });

  test("a wait beside a step: the step runs to its end before the run parks on the wait", async () => {
    let ran = 0;
    const task = defineTask({
      name: "beside",
      async run(ctx) {
        const [, value] = await Promise.all([ctx.waitForEvent<number>("e"), ctx.step("work", () => ++ran)]);
        return value;
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "beside", data: {} });
      await h.outcome(execution.id, "parked");
      const steps = Object.fromEntries((await h.engine.stepDetail(execution.id)).steps.map((s) => [s.name, s.state]));
      assert.deepEqual(steps, { e: "waiting", work: "completed" }, "the step was recorded before the park");
      await h.engine.deliverEvent(execution.id, "e", "1");
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      assert.equal(ran, 1, "the recorded step did not run again on resume");
    } finally {
      await h.close();
    }
  });
});
