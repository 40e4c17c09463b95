/**
 * A lease renewal answers for the fences it was sent with. Here it carries the lease of a run that has
 * just parked its execution (a short sleep), and its answer, "not held", arrives after the worker claimed
 * the execution again for its next run: only the parked run's lease is gone, and the next run must go on.
 * Stopping it instead left the execution `running` under a lease nobody renewed until that lease expired.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defineTask } from "../src/core/task.js";
import type { Checkpoint } from "../src/store/store.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";

test("a renewal's late 'not held' for a parked run leaves the execution's next run alone", { timeout: 30_000 }, async () => {
  const secondStep = deferred();
  const gate = deferred();
  const task = defineTask({
    name: "napper",
    async run(ctx) {
      await ctx.step("one", () => 1);
      await ctx.sleep("nap", "1500ms");
      return ctx.step("two", async () => {
        secondStep.resolve();
        await gate.promise;
        return 2;
      });
    },
  });
  // Renewals every third of the lease: at 1,000 ms on the test clock, before the nap ends at 1,500.
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2, leaseMs: 3000 } });
  const parkAnswered = deferred();
  const renewalAnswered = deferred();
  const parkSent = deferred();
  const renewalSent = deferred();
  const isPark = (batch: readonly Checkpoint[]) => batch.some((c) => c.patch.transition === "park");
  const apply = h.store.applyCheckpoints.bind(h.store);
  h.store.applyCheckpoints = async (batch) => {
    const results = await apply(batch);
    if (isPark(batch)) {
      parkSent.resolve();
      await parkAnswered.promise;
    }
    return results;
  };
  const applyAndClaim = h.store.applyAndClaim.bind(h.store);
  h.store.applyAndClaim = async (batch, claim) => {
    const answer = await applyAndClaim(batch, claim);
    if (isPark(batch)) {
      parkSent.resolve();
      await parkAnswered.promise;
    }
    return answer;
  };
  const renew = h.store.renewLeases.bind(h.store);
  let renewalDone: Promise<unknown> = Promise.resolve();
  h.store.renewLeases = (fences, now, leaseMs) => {
    const answer = (async () => {
      const held = await renew(fences, now, leaseMs);
      renewalSent.resolve();
      await renewalAnswered.promise;
      return held;
    })();
    // The worker handles the answer in the turn it arrives; the next macrotask comes after that.
    renewalDone = answer.then(() => new Promise((resolve) => setImmediate(resolve)));
    return answer;
  };
  try {
    const { execution } = await h.engine.schedule({ task: "napper", data: {} });
    // The first run parked the execution; its write is stored, the answer held: the run still settles.
    await parkSent.promise;
    h.clock.advance(1000);
    // The renewal went out with the parked run's lease, which the store no longer holds for it.
    await renewalSent.promise;
    parkAnswered.resolve();
    h.clock.advance(500);
    // The nap ended: the execution was claimed again, and its next run is in its second step.
    await secondStep.promise;
    renewalAnswered.resolve();
    await renewalDone;
    gate.resolve();
    const done = await h.engine.waitForTerminal(execution.id, 1e9);
    assert.deepEqual([done.status, done.outputJson, done.crashes], ["completed", "2", 0]);
  } finally {
    for (const d of [parkAnswered, renewalAnswered, gate]) d.resolve();
    await h.close();
  }
});
