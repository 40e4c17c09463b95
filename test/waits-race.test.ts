/**
 * Durable waits combined with Promise.race and Promise.all: the run parks only when nothing can go on,
 * with every open wait recorded, so any of them can receive what it waits for; a race's losing wait is
 * closed (recorded as such) when the execution ends.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";

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

  test("an event delivered to the losing wait after the race changes nothing: replays keep the winner", async () => {
    const task = defineTask({
      name: "decide-then-confirm",
      async run(ctx) {
        const decision = await Promise.race([
          ctx.waitForEvent("approve").then(() => "approved"),
          ctx.waitForEvent("reject").then(() => "rejected"),
        ]);
        await ctx.waitForEvent("confirm");
        return decision;
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "decide-then-confirm", data: {} });
      await h.outcome(execution.id, "parked");
      await h.engine.deliverEvent(execution.id, "reject", "null");
      await h.outcome(execution.id, "parked", 2);
      // JavaScript cannot tell that nobody awaits "approve" any more, so it stays open and takes the event.
      assert.equal(await h.engine.deliverEvent(execution.id, "approve", "null"), "delivered");
      await h.outcome(execution.id, "parked", 3);
      await h.engine.deliverEvent(execution.id, "confirm", "null");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "rejected", "the replay resolves the race as the first run did");
    } finally {
      await h.close();
    }
  });

  test("a race between two steps replays with the same winner", async () => {
    const runs: string[] = [];
    const task = defineTask({
      name: "fastest",
      async run(ctx) {
        let fastSettled!: () => void;
        const gate = new Promise<void>((resolve) => {
          fastSettled = resolve;
        });
        // "slow" ends only after the race has seen "fast", so the first run's winner is known.
        const first = await Promise.race([
          ctx.step("slow", async () => {
            await gate;
            runs.push("slow");
            return "slow";
          }),
          ctx
            .step("fast", () => {
              runs.push("fast");
              return "fast";
            })
            .then((v) => {
              fastSettled();
              return v;
            }),
        ]);
        await ctx.sleep("pause", "1m");
        return first;
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "fastest", data: {} });
      await h.outcome(execution.id, "parked");
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual(runs.sort(), ["fast", "slow"], "each step ran once");
      assert.equal(JSON.parse(done.outputJson ?? "null"), "fast");
    } finally {
      await h.close();
    }
  });

  test("an event delivered while the race's other branch runs a step loses, on the first run and on replays", async () => {
    const stepStarted = deferred<void>();
    const finishStep = deferred<void>();
    const task = defineTask({
      name: "step-or-event",
      async run(ctx) {
        const winner = await Promise.race([
          ctx.waitForEvent("a").then(() => "event"),
          (async () => {
            await ctx.waitForEvent("go");
            return ctx.step("s", async () => {
              stepStarted.resolve();
              await finishStep.promise;
              return "step";
            });
          })(),
        ]);
        await ctx.sleep("pause", "1m");
        return winner;
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "step-or-event", data: {} });
      await h.outcome(execution.id, "parked");
      await h.engine.deliverEvent(execution.id, "go", "null");
      await stepStarted.promise;
      assert.equal(await h.engine.deliverEvent(execution.id, "a", "null"), "delivered", "the wait on a is still open");
      finishStep.resolve();
      await h.outcome(execution.id, "parked", 2);
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "step", "the run that settled the race never saw the event");
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
