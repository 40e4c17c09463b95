/**
 * The same bad values inside a workflow, on either store: a NUL or an unpaired surrogate in a step name
 * and a sleep too long for any store fail the execution with a clear error at the call that received them,
 * never a database error. Through the engine API, an unpaired surrogate in an event name or from a task's
 * concurrency key function is refused as it would be over HTTP, and such a `workerId` when the engine starts.
 */
import assert from "node:assert/strict";
import { defineTask } from "../../src/core/task.js";
import { Engine } from "../../src/engine/engine.js";
import type { Store } from "../../src/store/store.js";

export const badNames = defineTask({
  name: "bad-name",
  async run(ctx) {
    return ctx.step("na\u0000me", () => 1);
  },
});

export const surrogateName = defineTask({
  name: "surrogate-name",
  async run(ctx) {
    return ctx.step("na\ud800me", () => 1);
  },
});

export const surrogateKey = defineTask({
  name: "surrogate-key",
  concurrency: { limit: 1, key: () => "key\udc00" },
  run: () => 1,
});

export const badSleep = defineTask({
  name: "bad-sleep",
  async run(ctx) {
    await ctx.sleep("forever", Number.MAX_VALUE);
    return "woke";
  },
});

export const negativeSleep = defineTask({
  name: "negative-sleep",
  retry: { maxAttempts: 3, initialDelay: 1 },
  async run(ctx) {
    await ctx.sleep("back", -5);
    return "woke";
  },
});

/**
 * Runs the four bad workflows on `store` and checks each failed with its code, once (a definition error is
 * not retried); then the engine API's refusals.
 */
export async function assertBadValuesFail(store: Store): Promise<void> {
  const engine = await Engine.start({
    store,
    tasks: [badNames, surrogateName, surrogateKey, badSleep, negativeSleep],
    worker: { concurrency: 4 },
  });
  try {
    const expected: Record<string, string> = {
      "bad-name": "invalid_step_name",
      "surrogate-name": "invalid_step_name",
      "bad-sleep": "invalid_argument",
      "negative-sleep": "invalid_argument",
    };
    for (const [task, code] of Object.entries(expected)) {
      const { execution } = await engine.schedule({ task, data: {} });
      const done = await engine.waitForTerminal(execution.id, 30_000);
      assert.equal(done.status, "failed", task);
      assert.equal(done.error?.code, code, `${task}: ${done.error?.message}`);
      assert.equal(done.attempt, 1, `${task}: not retried`);
    }
    await assert.rejects(engine.schedule({ task: "surrogate-key", data: {} }), { code: "invalid_data" });
    // As every option, where the engine starts: never a database error at the first claim.
    for (const workerId of ["w\u0000", "w\ud800", ""]) {
      await assert.rejects(Engine.start({ store, tasks: [badSleep], workerId }), { name: "RangeError", message: /^workerId must be/ });
    }
    // Checked before the execution is looked for.
    await assert.rejects(engine.deliverEvent("exec-0000000000000000", "ev\ud800", "{}"), { code: "invalid_request" });
  } finally {
    await engine.stop();
  }
}
