/**
 * A `runnable` notice that arrives while a claim folded into a checkpoint flush is out must not be
 * forgotten when that claim comes back short: the claim ran before the new row existed. Here the flush
 * that ends one execution carries the worker's claim for the freed slot; its answer is held until a second
 * execution has been queued (not started eagerly), and the worker's safety poll is an hour away, so only
 * the notice can bring the second execution to a claim. The second case has another flush out when that
 * answer comes, one that carries no claim: the worker must not count on it to bring one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import type { Checkpoint, Store } from "../src/store/store.js";
import { type Deferred, deferred } from "./support/deferred.js";
import { eventually } from "./support/server-process.js";
import { heldStepTask } from "./support/test-tasks.js";

const dir = mkdtempSync(join(tmpdir(), "zart-notice-claim-"));
after(() => rmSync(dir, { recursive: true, force: true }));

type Held = "applyAndClaim" | "applyCheckpoints";

interface Hold {
  ran: Deferred<void>;
  release: Promise<void>;
  which: (batch: readonly Checkpoint[]) => boolean;
}

/**
 * The store, with the answer of the next call of a method (whose batch `which` picks) held after it ran
 * until `release` resolves.
 */
function holdingAnswers(store: Store) {
  const armed = new Map<Held, Hold>();
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "applyAndClaim" || prop === "applyCheckpoints") {
        return async (...args: unknown[]) => {
          const answer = await (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          const hold = armed.get(prop);
          if (hold?.which(args[0] as Checkpoint[])) {
            armed.delete(prop);
            hold.ran.resolve();
            await hold.release;
          }
          return answer;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    store: wrapped,
    arm(method: Held, release: Promise<void>, which: Hold["which"] = () => true) {
      const ran = deferred<void>();
      armed.set(method, { ran, release, which });
      return ran.promise;
    },
  };
}

test("a notice that came while a folded claim was out brings the next claim", { timeout: 30_000 }, async () => {
  const sqlite = await SqliteStore.open({ path: join(dir, "zart.db") });
  await sqlite.migrate();
  const { store, arm } = holdingAnswers(sqlite);
  const first = heldStepTask("first");
  const second = defineTask({ name: "second", run: () => "ok" });
  const engine = await Engine.start({
    store,
    tasks: [first.task, second],
    logger: silentLogger,
    worker: { concurrency: 1, safetyPollMs: 3_600_000, prefetch: 0 },
  });
  try {
    const one = (await engine.schedule({ task: "first", data: {} })).execution.id;
    await first.started.promise;
    const release = deferred();
    const claimRan = arm("applyAndClaim", release.promise);
    first.gate.resolve();
    // The end of `one` and the claim for its slot ran together and found nothing; their answer is held.
    await claimRan;
    const two = (await engine.schedule({ task: "second", data: {}, eager: false })).execution.id;
    release.resolve();
    assert.equal((await engine.waitForTerminal(one, 10_000)).status, "completed");
    assert.equal((await engine.waitForTerminal(two, 20_000)).status, "completed", "the second execution was claimed");
  } finally {
    await engine.stop();
    await sqlite.close();
  }
});

test("a notice that came while a folded claim was out brings the next claim also while another flush, without a claim, is out", {
  timeout: 30_000,
}, async () => {
  const sqlite = await SqliteStore.open({ path: join(dir, "zart-two-flushes.db") });
  await sqlite.migrate();
  const { store, arm } = holdingAnswers(sqlite);
  const first = heldStepTask("first");
  const steps = [deferred(), deferred()];
  const stepStarted = [deferred(), deferred()];
  const slow = defineTask({
    name: "slow",
    async run(ctx) {
      for (const i of [0, 1]) {
        await ctx.step(`step-${i}`, async () => {
          stepStarted[i]?.resolve();
          await steps[i]?.promise;
          return i;
        });
      }
      return "slow";
    },
  });
  const second = defineTask({ name: "second", run: () => "ok" });
  const releaseClaim = deferred();
  const releaseFlush = deferred();
  const engine = await Engine.start({
    store,
    tasks: [first.task, slow, second],
    logger: silentLogger,
    worker: { concurrency: 2, safetyPollMs: 3_600_000, prefetch: 0 },
  });
  try {
    // Each started, with its step's progress write stored, so the flushes below carry only what they name.
    const other = (await engine.schedule({ task: "slow", data: {} })).execution.id;
    await stepStarted[0]?.promise;
    await eventually(async () => ((await engine.get(other)).currentStep === "step-0" ? true : undefined), 10_000, "other's step stored");
    const one = (await engine.schedule({ task: "first", data: {} })).execution.id;
    await first.started.promise;
    await eventually(async () => ((await engine.get(one)).currentStep === "work" ? true : undefined), 10_000, "one's step stored");
    // A notice says work may be waiting (the worker has no free slot for it), and the work is then
    // cancelled: the end of `one` carries a claim for its slot, which finds nothing; its answer is held.
    const gone = (await engine.schedule({ task: "second", data: {}, eager: false })).execution.id;
    assert.equal((await engine.cancel(gone)).status, "cancelled");
    const claimRan = arm("applyAndClaim", releaseClaim.promise);
    first.gate.resolve();
    await claimRan;
    // A second flush goes out meanwhile: `other` starts its second step, after which it writes nothing
    // until the test lets it. The claim took the only free slot, so this flush carries none; its answer
    // is held too.
    const flushRan = arm("applyCheckpoints", releaseFlush.promise, (batch) =>
      batch.some((c) => c.patch.transition === "progress" && c.patch.currentStep === "step-1"),
    );
    steps[0]?.resolve();
    await flushRan;
    const two = (await engine.schedule({ task: "second", data: {}, eager: false })).execution.id;
    // The claim's short answer comes back while the other flush is out; then that flush's answer.
    releaseClaim.resolve();
    assert.equal((await engine.waitForTerminal(one, 10_000)).status, "completed");
    releaseFlush.resolve();
    // `other` holds its slot in its second step; the freed one is `two`'s, if a claim comes.
    assert.equal((await engine.waitForTerminal(two, 20_000)).status, "completed", "the second execution was claimed");
    steps[1]?.resolve();
    assert.equal((await engine.waitForTerminal(other, 10_000)).status, "completed");
  } finally {
    for (const gate of [...steps, releaseClaim, releaseFlush]) gate.resolve();
    await engine.stop();
    await sqlite.close();
  }
});
