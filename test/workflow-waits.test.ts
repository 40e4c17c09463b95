import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EventTimeoutError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("durable sleep", () => {
  test("a sleep survives a restart and wakes at the time fixed when it was first reached", async () => {
    let before = 0;
    const task = defineTask({
      name: "nap",
      async run(ctx) {
        await ctx.step("before", () => ++before);
        await ctx.sleep("nap", "1h");
        return "rested";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "nap", data: {} });
      await h.outcome(execution.id, "parked");
      const wakeAt = h.clock.now() + 3_600_000;
      assert.equal((await h.engine.get(execution.id)).runnableAt, wakeAt);
      h.clock.advance(1_800_000);
      await h.restart();
      // Still parked after the restart, and the wake time did not move.
      const row = await h.engine.get(execution.id);
      assert.equal(row.status, "waiting");
      assert.equal(row.runnableAt, wakeAt);
      h.clock.advance(1_800_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(before, 1);
      assert.equal(done.stepsCompleted, 2, "the step and the ended sleep");
    } finally {
      await h.close();
    }
  });

  test("sleepUntil a past time continues at once and records the sleep", async () => {
    const task = defineTask({
      name: "past",
      async run(ctx) {
        await ctx.sleepUntil("then", new Date(0));
        return "ok";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "past", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(done.stepsCompleted, 1);
    } finally {
      await h.close();
    }
  });
});

describe("events", () => {
  const approval = defineTask({
    name: "approval",
    async run(ctx) {
      await ctx.step("prepare", () => "ready");
      try {
        const payload = await ctx.waitForEvent<{ ok: boolean }>("approve", {
          timeout: "1h",
          schema: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
        });
        return { approved: payload.ok };
      } catch (error) {
        if (error instanceof EventTimeoutError) return { timedOut: true };
        throw error;
      }
    },
  });

  test("waiting for an event: status, schema-checked delivery, resume", async () => {
    const h = await createTestEngine({ tasks: [approval] });
    try {
      const { execution } = await h.engine.schedule({ task: "approval", data: {} });
      await assert.rejects(h.engine.deliverEvent(execution.id, "approve", "{}"), { code: "not_waiting_for_event" });
      await h.outcome(execution.id, "parked");
      const waiting = await h.engine.get(execution.id);
      assert.equal(waiting.status, "waiting");
      assert.equal(waiting.waitingForEvent, "approve");
      assert.equal(waiting.currentStep, "approve");
      assert.equal(waiting.stepsCompleted, 1);
      await assert.rejects(h.engine.deliverEvent(execution.id, "other", "{}"), { code: "not_waiting_for_event" });
      await assert.rejects(h.engine.deliverEvent(execution.id, "approve", '{"ok":"yes"}'), {
        code: "invalid_data",
        message: /payload\.ok/,
      });
      await assert.rejects(h.engine.deliverEvent("exec-doesnotexist1", "approve", "{}"), { code: "execution_not_found" });
      await h.engine.deliverEvent(execution.id, "approve", '{"ok":true}');
      await assert.rejects(h.engine.deliverEvent(execution.id, "approve", '{"ok":true}'), { code: "not_waiting_for_event" });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { approved: true });
      assert.equal(done.stepsCompleted, 2);
      await assert.rejects(h.engine.deliverEvent(execution.id, "approve", '{"ok":true}'), { code: "not_waiting_for_event" });
    } finally {
      await h.close();
    }
  });

  test("an event wait times out with a catchable error; a late event is refused", async () => {
    const h = await createTestEngine({ tasks: [approval] });
    try {
      const { execution } = await h.engine.schedule({ task: "approval", data: {} });
      await h.outcome(execution.id, "parked");
      h.clock.advance(3_600_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { timedOut: true });
      await assert.rejects(h.engine.deliverEvent(execution.id, "approve", '{"ok":true}'), { code: "not_waiting_for_event" });
      const detail = await h.engine.stepDetail(execution.id);
      assert.equal(detail.steps.find((s) => s.name === "approve")?.state, "failed");
    } finally {
      await h.close();
    }
  });

  test("two racing deliveries: exactly one is accepted", async () => {
    const h = await createTestEngine({ tasks: [approval] });
    try {
      const { execution } = await h.engine.schedule({ task: "approval", data: {} });
      await h.outcome(execution.id, "parked");
      const results = await Promise.allSettled([
        h.engine.deliverEvent(execution.id, "approve", '{"ok":true}'),
        h.engine.deliverEvent(execution.id, "approve", '{"ok":false}'),
      ]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
    } finally {
      await h.close();
    }
  });
});
