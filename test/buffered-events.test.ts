/**
 * Buffered events (a task with `events: "buffered"`): an event sent before the execution waits for it is
 * kept (202 `buffered` over HTTP) and the next wait of that name takes the oldest at once. Without the
 * option the contract's 409 stands.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";
import { serveInProcess } from "./support/in-process-server.js";

const LONG = 1e9;

const inbox = defineTask({
  name: "inbox",
  events: "buffered",
  async run(ctx) {
    await ctx.sleep("busy", "1m");
    const first = await ctx.waitForEvent<string>("msg");
    const second = await ctx.waitForEvent<string>("msg-2");
    return [first, second];
  },
});

const strict = defineTask({
  name: "strict",
  async run(ctx) {
    await ctx.sleep("busy", "1m");
    return ctx.waitForEvent("msg");
  },
});

describe("buffered events", () => {
  test("events sent before their wait are kept, oldest first, and taken at once by the wait", async () => {
    const h = await createTestEngine({ tasks: [inbox] });
    try {
      const { execution } = await h.engine.schedule({ task: "inbox", data: {} });
      await h.outcome(execution.id, "parked");
      assert.equal(await h.engine.deliverEvent(execution.id, "msg", '"one"'), "buffered");
      assert.equal(await h.engine.deliverEvent(execution.id, "msg", '"two"'), "buffered");
      assert.equal((await h.engine.get(execution.id)).bufferedEvents, 2);
      h.clock.advance(60_000);
      await h.outcome(execution.id, "parked", 2);
      // msg was taken from the buffer at once; msg-2 is now awaited and delivered the usual way.
      assert.equal((await h.engine.get(execution.id)).waitingForEvent, "msg-2");
      assert.equal(await h.engine.deliverEvent(execution.id, "msg-2", '"three"'), "delivered");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), ["one", "three"], "the oldest buffered one");
      assert.equal(done.bufferedEvents, 1, "the second msg stays buffered, unclaimed");
    } finally {
      await h.close();
    }
  });

  test("events sent while the execution is pending, or running before its wait, are taken by the wait", async () => {
    const stepRunning = deferred<void>();
    const finishStep = deferred<void>();
    const early = defineTask({
      name: "early",
      events: "buffered",
      async run(ctx) {
        await ctx.step("work", async () => {
          stepRunning.resolve();
          await finishStep.promise;
        });
        const first = await ctx.waitForEvent<string>("first");
        const second = await ctx.waitForEvent<string>("second");
        return [first, second];
      },
    });
    const h = await createTestEngine({ tasks: [early] });
    try {
      const startAt = new Date(h.clock.now() + 60_000).toISOString();
      const { execution } = await h.engine.schedule({ task: "early", data: {}, startAt });
      assert.equal((await h.engine.get(execution.id)).status, "pending");
      assert.equal(await h.engine.deliverEvent(execution.id, "first", '"while pending"'), "buffered");
      h.clock.advance(60_000);
      await stepRunning.promise;
      assert.equal((await h.engine.get(execution.id)).status, "running");
      assert.equal(await h.engine.deliverEvent(execution.id, "second", '"while running"'), "buffered");
      finishStep.resolve();
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), ["while pending", "while running"]);
      assert.equal(done.bufferedEvents, 0);
    } finally {
      await h.close();
    }
  });

  test("a wait with a schema takes the oldest payload it accepts; a refused one stays stored", async () => {
    const typed = defineTask({
      name: "typed-inbox",
      events: "buffered",
      async run(ctx) {
        await ctx.sleep("busy", "1m");
        return ctx.waitForEvent<{ amount: number }>("payment", {
          schema: { type: "object", properties: { amount: { type: "number" } }, required: ["amount"] },
        });
      },
    });
    const h = await createTestEngine({ tasks: [typed] });
    try {
      const { execution } = await h.engine.schedule({ task: "typed-inbox", data: {} });
      await h.outcome(execution.id, "parked");
      assert.equal(await h.engine.deliverEvent(execution.id, "payment", '{"amount":"forty"}'), "buffered");
      assert.equal(await h.engine.deliverEvent(execution.id, "payment", '{"amount":40}'), "buffered");
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { amount: 40 }, "the refused payload never reaches the workflow");
      assert.equal(done.bufferedEvents, 1, "the refused one is kept, not thrown away");
    } finally {
      await h.close();
    }
  });

  test("over HTTP: 202 buffered for such a task, 409 for a task without the option", async () => {
    const h = await createTestEngine({ tasks: [inbox, strict] });
    const { api, server } = await serveInProcess(h.engine);
    try {
      const buffered = await h.engine.schedule({ task: "inbox", data: {} });
      const refused = await h.engine.schedule({ task: "strict", data: {} });
      await h.outcome(buffered.execution.id, "parked");
      await h.outcome(refused.execution.id, "parked");
      const send = (id: string) =>
        fetch(`${api}/events/${id}/msg`, { method: "POST", headers: { "content-type": "application/json" }, body: '"early"' });
      const accepted = await send(buffered.execution.id);
      assert.equal(accepted.status, 202);
      assert.deepEqual(await accepted.json(), { status: "buffered", execution_id: buffered.execution.id, event_name: "msg" });
      const conflict = await send(refused.execution.id);
      assert.equal(conflict.status, 409);
      assert.equal(((await conflict.json()) as { error: { code: string } }).error.code, "not_waiting_for_event");
      const stored = (await (await fetch(`${api}/executions/${buffered.execution.id}`)).json()) as Record<string, unknown>;
      assert.equal(stored.buffered_events, 1, "GET shows the event stored for a later wait");
      const plain = (await (await fetch(`${api}/executions/${refused.execution.id}`)).json()) as Record<string, unknown>;
      assert.equal("buffered_events" in plain, false, "and no such key when there are none");
    } finally {
      await server.close();
      await h.close();
    }
  });
});
