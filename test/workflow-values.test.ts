/**
 * Values a workflow hands the engine that it cannot record as given, and how each ends: an Error whose
 * fields are not text, a symbol thrown, a step result no store can hold, -0, a child's start time Date
 * cannot hold, a bad duration the workflow catches, and event payload text that is not JSON. Each ends
 * the way docs/engine.md ("Values", "Bad values") says, never with a stuck execution or a dead process.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ZartError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

/** An Error whose `message` the workflow replaced with something other than text. */
function oddError(kind: string): Error {
  const error = new Error("replaced");
  const target = error as unknown as Record<string, unknown>;
  if (kind === "bigint") target.message = 5n;
  else if (kind === "object") target.message = { detail: "db down" };
  else if (kind === "symbol") target.message = Symbol("odd");
  else
    Object.defineProperty(error, "message", {
      get() {
        throw new Error("no message for you");
      },
    });
  return error;
}

describe("values a workflow hands the engine", () => {
  test("an Error whose message is not text fails its execution with a text message, started eagerly or claimed", async () => {
    const thrower = defineTask({
      name: "odd-thrower",
      run: (_ctx, data: { kind: string }) => {
        if (data.kind === "thrown-symbol") throw Symbol("boom");
        throw oddError(data.kind);
      },
    });
    const h = await createTestEngine({ tasks: [thrower] });
    try {
      const expected: Record<string, string> = {
        bigint: "5",
        object: '{"detail":"db down"}',
        symbol: "Symbol(odd)",
        getter: "",
        "thrown-symbol": "Non-error thrown: Symbol(boom)",
      };
      for (const [kind, message] of Object.entries(expected)) {
        for (const eager of [true, false]) {
          const { execution } = await h.engine.schedule({ task: "odd-thrower", data: { kind }, eager });
          const done = await h.engine.waitForTerminal(execution.id, LONG);
          assert.deepEqual([done.status, done.error?.message], ["failed", message], `${kind}, eager ${eager}`);
        }
      }
    } finally {
      await h.close();
    }
  });

  test("a step result no store can hold fails the execution at once, without the task's retries", async () => {
    let runs = 0;
    const dated = defineTask({
      name: "dated",
      retry: { maxAttempts: 3, initialDelay: 0 },
      run: (ctx) =>
        ctx.step("when", () => {
          runs += 1;
          return { at: new Date(0) };
        }),
    });
    const h = await createTestEngine({ tasks: [dated] });
    try {
      const { execution } = await h.engine.schedule({ task: "dated", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual([done.status, done.error?.code, done.attempt, runs], ["failed", "not_serializable", 1, 1]);
      const [step] = (await h.engine.steps(execution.id)).entries;
      assert.deepEqual([step?.name, step?.status, step?.error?.code], ["when", "failed", "not_serializable"]);
    } finally {
      await h.close();
    }
  });

  test("a definition error the workflow catches still fails its execution", async () => {
    const careless = defineTask({
      name: "careless",
      async run(ctx) {
        try {
          await ctx.sleep("forever", Number.MAX_VALUE);
        } catch {
          // carries on as if it had slept
        }
        return "went on";
      },
    });
    const h = await createTestEngine({ tasks: [careless] });
    try {
      const { execution } = await h.engine.schedule({ task: "careless", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual([done.status, done.error?.code], ["failed", "invalid_argument"]);
    } finally {
      await h.close();
    }
  });

  test("-0 from a step: the first run sees what every replay sees", async () => {
    const seen: boolean[] = [];
    const signed = defineTask({
      name: "signed",
      async run(ctx) {
        const value = await ctx.step("zero", () => -0);
        seen.push(Object.is(value, -0));
        await ctx.sleep("nap", "1s");
        return "ok";
      },
    });
    const h = await createTestEngine({ tasks: [signed] });
    try {
      const { execution } = await h.engine.schedule({ task: "signed", data: {} });
      await h.outcome(execution.id, "parked");
      h.clock.advance(1000);
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      assert.deepEqual(seen, [false, false]);
    } finally {
      await h.close();
    }
  });

  test("a child's start time Date cannot hold is refused as the child's invalid_data, catchable by its parent", async () => {
    const child = defineTask({ name: "kid", run: () => "kid" });
    const parent = defineTask({
      name: "parent-of-late",
      async run(ctx, data: { at: string }) {
        const at = data.at === "nan" ? Number.NaN : data.at === "huge" ? 1e20 : new Date("not a date");
        try {
          await ctx.runChild("kid", child, {}, { startAt: at });
          return "started";
        } catch (error) {
          return (error as ZartError).code;
        }
      },
    });
    const h = await createTestEngine({ tasks: [child, parent] });
    try {
      for (const at of ["nan", "huge", "bad-date"]) {
        const { execution } = await h.engine.schedule({ task: "parent-of-late", data: { at } });
        const done = await h.engine.waitForTerminal(execution.id, LONG);
        assert.deepEqual([done.status, done.outputJson], ["completed", '"invalid_data"'], at);
      }
    } finally {
      await h.close();
    }
  });

  test("event payload text that is not JSON is refused by deliverEvent, and the wait still takes a good one", async () => {
    const waiter = defineTask({ name: "waiter", run: (ctx) => ctx.waitForEvent("go") });
    const h = await createTestEngine({ tasks: [waiter] });
    try {
      const { execution } = await h.engine.schedule({ task: "waiter", data: {} });
      await h.outcome(execution.id, "parked");
      for (const text of ["", "not json", "{", "undefined"]) {
        await assert.rejects(h.engine.deliverEvent(execution.id, "go", text), { code: "invalid_json" }, JSON.stringify(text));
      }
      assert.equal(await h.engine.deliverEvent(execution.id, "go", "42"), "delivered");
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual([done.status, done.outputJson], ["completed", "42"]);
    } finally {
      await h.close();
    }
  });
});
