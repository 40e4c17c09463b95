/**
 * The typed task API at run time: schedule by definition, parsed results, events sent as values, and
 * `eventSchemas` checked at delivery; Standard Schema inputs (zod, valibot, arktype) checked at schedule.
 * (What the compiler checks is in test/types.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type } from "arktype";
import { Type } from "typebox";
import * as v from "valibot";
import { z } from "zod";
import { ZartError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const order = defineTask({
  name: "order",
  input: Type.Object({ id: Type.String(), quantity: Type.Integer({ minimum: 1 }) }),
  eventSchemas: { shipped: z.object({ carrier: z.string() }) },
  async run(ctx, data) {
    const shipment = await ctx.waitForEvent("shipped");
    return { id: data.id, quantity: data.quantity, carrier: shipment.carrier };
  },
});

async function rejected(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ZartError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe("typed engine calls", () => {
  test("schedule(task, data) answers a handle; sendEvent takes a value; result has the parsed output", async () => {
    const h = await createTestEngine({ tasks: [order] });
    try {
      const handle = await h.engine.schedule(order, { id: "o-1", quantity: 2 });
      assert.equal(handle.task, "order");
      assert.equal(handle.id, handle.execution.id);
      assert.equal(handle.created, true);
      await h.outcome(handle.id, "parked");
      // The declared schema is the wait's schema: a payload that does not match is refused at delivery.
      await rejected(h.engine.sendEvent(handle, "shipped", { carrier: 7 } as never), "invalid_data", /carrier/);
      assert.equal(await h.engine.sendEvent(handle, "shipped", { carrier: "DHL" }), "delivered");
      const done = await h.engine.result(handle, { timeoutMs: 1e9 });
      assert.equal(done.status, "completed");
      assert.deepEqual(done.output, { id: "o-1", quantity: 2, carrier: "DHL" });
      assert.equal("outputJson" in done, false);
      assert.equal(done.id, handle.id);
      // By id, too.
      assert.deepEqual((await h.engine.result(handle.id)).output, done.output);
    } finally {
      await h.close();
    }
  });

  test("the typed schedule checks data and passes its options; a failed execution's result has output null", async () => {
    const failing = defineTask({
      name: "failing",
      async run() {
        throw new Error("boom");
      },
    });
    const h = await createTestEngine({ tasks: [order, failing] });
    try {
      await rejected(h.engine.schedule(order, { id: "o-2", quantity: 0 }), "invalid_data", /quantity/);
      const first = await h.engine.schedule(order, { id: "o-3", quantity: 1 }, { idempotencyKey: "k-3" });
      const again = await h.engine.schedule(order, { id: "o-3", quantity: 1 }, { idempotencyKey: "k-3" });
      assert.equal(again.created, false);
      assert.equal(again.id, first.id);
      const failed = await h.engine.result(await h.engine.schedule(failing, {}), { timeoutMs: 1e9 });
      assert.equal(failed.status, "failed");
      assert.equal(failed.output, null);
      assert.match(failed.error?.message ?? "", /boom/);
    } finally {
      await h.close();
    }
  });

  test("result answers the current state when its timeout passes first", async () => {
    const h = await createTestEngine({ tasks: [order] });
    try {
      const handle = await h.engine.schedule(order, { id: "o-4", quantity: 1 });
      await h.outcome(handle.id, "parked");
      const waiting = await h.engine.result(handle, { timeoutMs: 0 });
      assert.equal(waiting.status, "waiting");
      assert.equal(waiting.output, null);
    } finally {
      await h.close();
    }
  });

  test("sendEvent refuses a value that is not JSON, and undefined is sent as null", async () => {
    const anything = defineTask({
      name: "anything",
      async run(ctx) {
        return { got: await ctx.waitForEvent("value") };
      },
    });
    const h = await createTestEngine({ tasks: [anything] });
    try {
      const handle = await h.engine.schedule(anything, {});
      await h.outcome(handle.id, "parked");
      await rejected(h.engine.sendEvent(handle, "value", { when: new Date(0) }), "invalid_data", /\$\.when is a Date/);
      await rejected(h.engine.sendEvent(handle, "value", { n: 1n }), "invalid_data", /BigInt/);
      assert.equal(await h.engine.sendEvent(handle.id, "value"), "delivered");
      assert.deepEqual((await h.engine.result(handle, { timeoutMs: 1e9 })).output, { got: null });
    } finally {
      await h.close();
    }
  });

  test("a wait's own schema wins over the declared one", async () => {
    const own = defineTask({
      name: "own-schema",
      eventSchemas: { answer: z.object({ yes: z.boolean() }) },
      async run(ctx) {
        return ctx.waitForEvent("answer", { schema: Type.Object({ text: Type.String() }) });
      },
    });
    const h = await createTestEngine({ tasks: [own] });
    try {
      const handle = await h.engine.schedule(own, {});
      await h.outcome(handle.id, "parked");
      await rejected(h.engine.sendEvent(handle.id, "answer", { yes: true }), "invalid_data", /text/);
      assert.equal(await h.engine.sendEvent(handle.id, "answer", { text: "hi" }), "delivered");
      assert.deepEqual((await h.engine.result(handle, { timeoutMs: 1e9 })).output, { text: "hi" });
    } finally {
      await h.close();
    }
  });
});

describe("Standard Schema inputs", () => {
  const echo = <S extends object>(name: string, input: S) =>
    defineTask({
      name,
      input,
      async run(_ctx, data) {
        return data;
      },
    });

  for (const [library, task, good, bad, field] of [
    ["zod", echo("zod-echo", z.object({ email: z.email() })), { email: "a@example.com" }, { email: "nope" }, "email"],
    ["valibot", echo("valibot-echo", v.object({ count: v.pipe(v.number(), v.integer()) })), { count: 3 }, { count: 1.5 }, "count"],
    ["arktype", echo("arktype-echo", type({ name: "string > 2" })), { name: "Ada" }, { name: "A" }, "name"],
  ] as const) {
    test(`${library}: data is checked when scheduled, and reaches run as sent`, async () => {
      const h = await createTestEngine({ tasks: [task] });
      try {
        await rejected(h.engine.schedule({ task: task.name, data: bad }), "invalid_data", new RegExp(`data\\.${field}`));
        const handle = await h.engine.schedule({ task: task.name, data: good });
        assert.deepEqual((await h.engine.result(handle.execution.id, { timeoutMs: 1e9 })).output, good);
      } finally {
        await h.close();
      }
    });
  }

  test("a JSON Schema is registered for API-only servers when the library converts to one (zod, arktype; not valibot)", () => {
    assert.equal(JSON.parse(echo("z", z.object({ a: z.string() })).input?.jsonSchemaText ?? "null").type, "object");
    assert.equal(JSON.parse(echo("a", type({ a: "string" })).input?.jsonSchemaText ?? "null").type, "object");
    assert.equal(echo("v", v.object({ a: v.string() })).input?.jsonSchemaText, null);
  });
});
