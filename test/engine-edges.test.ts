/**
 * Edges found by reading the engine adversarially: a throwing `retryIf` still records the step; failed
 * attempts of a step in an in-place backoff survive a shutdown; a schema only the task's code can check
 * is checked by the worker when an API-only server created the execution.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine, ManualClock } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";

const LONG = 1e9;

describe("engine edges", () => {
  test("a sleep's recorded start is when it was reached: it spans its duration however slow the worker", async () => {
    // Every read of this clock while `ticking` moves it 3 ms on, so more time passes between computing the
    // wake time of a 2 ms sleep and recording it than the sleep lasts.
    class TickingClock extends ManualClock {
      ticking = false;
      private extra = 0;
      override now(): number {
        if (this.ticking) this.extra += 3;
        return super.now() + this.extra;
      }
    }
    const clock = new TickingClock();
    const task = defineTask({
      name: "short-nap",
      async run(ctx) {
        clock.ticking = true;
        try {
          await ctx.sleep("nap", 2);
        } finally {
          clock.ticking = false;
        }
        return "rested";
      },
    });
    const h = await createTestEngine({ tasks: [task], clock });
    try {
      const { execution } = await h.engine.schedule({ task: "short-nap", data: {} });
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      const nap = (await h.engine.steps(execution.id)).entries.find((e) => e.name === "nap");
      assert.ok(nap?.wakeAt != null && nap.startedAt != null, "the timeline has the sleep's start and wake times");
      assert.ok(nap.wakeAt - nap.startedAt >= 2, `wake ${nap.wakeAt} - start ${nap.startedAt} spans the sleep`);
    } finally {
      await h.close();
    }
  });

  test("a retryIf that throws fails the step for good, recorded with both errors", async () => {
    const task = defineTask({
      name: "bad-predicate",
      async run(ctx) {
        return ctx.step(
          "flaky",
          () => {
            throw new Error("upstream 503");
          },
          {
            retry: {
              maxAttempts: 5,
              retryIf: () => {
                throw new Error("predicate bug");
              },
            },
          },
        );
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "bad-predicate", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.match(done.error?.message ?? "", /upstream 503.*retryIf threw: predicate bug/);
      const flaky = (await h.engine.stepDetail(execution.id)).steps.find((s) => s.name === "flaky");
      assert.deepEqual([flaky?.state, flaky?.attempts], ["failed", 1], "recorded after one attempt");
    } finally {
      await h.close();
    }
  });

  test("failed attempts of a step waiting out an in-place backoff are kept when the worker shuts down", async () => {
    let attempts = 0;
    const second = deferred();
    const task = defineTask({
      name: "backoff",
      async run(ctx) {
        return ctx.step(
          "retrying",
          () => {
            attempts += 1;
            if (attempts === 2) second.resolve();
            throw new Error(`attempt ${attempts} failed`);
          },
          { retry: { maxAttempts: 10, initialDelay: 1000, backoff: "fixed", jitter: 0 } },
        );
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { inPlaceBackoffMaxMs: 5000, shutdownGraceMs: 1 } });
    try {
      const { execution } = await h.engine.schedule({ task: "backoff", data: {} });
      await h.clock.whenSleeping(1);
      h.clock.advance(1000);
      await second.promise;
      const stopping = h.engine.stop();
      // The backoff and the shutdown grace period both wait on the clock.
      await h.clock.whenSleeping(2);
      assert.equal(attempts, 2);
      h.clock.advance(1);
      await stopping;
      const detail = await h.store.getStepDetail(execution.id);
      assert.deepEqual(
        detail.attempts.map((a) => [a.attempt, a.error.message]),
        [
          [1, "attempt 1 failed"],
          [2, "attempt 2 failed"],
        ],
      );
      assert.equal((await h.store.getExecution(execution.id))?.status, "pending", "released for another worker");
    } finally {
      await h.close();
    }
  });

  test("a schema without a JSON Schema form: an API-only server accepts the data, the worker checks it on the first run", async () => {
    // A Standard Schema with no JSON Schema export (zod's would convert: this one cannot).
    const evenOnly = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value: unknown) =>
          typeof value === "object" && value !== null && (value as { n?: unknown }).n === 4
            ? { value }
            : { issues: [{ message: "must be even", path: ["n"] }] },
      },
    };
    const task = defineTask({ name: "opaque", input: evenOnly, run: (_ctx, data: { n: number }) => data.n });
    assert.equal(task.input?.jsonSchemaText, null);
    const h = await createTestEngine({ tasks: [], worker: false });
    try {
      await h.store.registerTasks("w", [{ name: "opaque", inputSchemaJson: null, options: { opaqueInput: true } }], h.clock.now());
      const odd = await h.engine.schedule({ task: "opaque", data: { n: 3 } });
      const even = await h.engine.schedule({ task: "opaque", data: { n: 4 } });
      await h.restart({ tasks: [task], worker: {} });
      const refused = await h.engine.waitForTerminal(odd.execution.id, LONG);
      assert.deepEqual([refused.status, refused.error?.code], ["failed", "invalid_data"]);
      assert.match(refused.error?.message ?? "", /must be even/);
      assert.equal((await h.engine.waitForTerminal(even.execution.id, LONG)).status, "completed");
    } finally {
      await h.close();
    }
  });
});
