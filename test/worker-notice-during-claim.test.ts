/**
 * A `runnable` notice that arrives while a claim folded into a checkpoint flush is out must not be
 * forgotten when that claim comes back short: the claim ran before the new row existed. Here the flush
 * that ends one execution carries the worker's claim for the freed slot; its answer is held until a second
 * execution has been queued (not started eagerly), and the worker's safety poll is an hour away, so only
 * the notice can bring the second execution to a claim.
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
import type { Store } from "../src/store/store.js";
import { type Deferred, deferred } from "./support/deferred.js";
import { heldStepTask } from "./support/test-tasks.js";

const dir = mkdtempSync(join(tmpdir(), "zart-notice-claim-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The store, with the answer of the next `applyAndClaim` held after it ran until `release` resolves. */
function holdingFoldedClaim(store: Store) {
  let armed: { ran: Deferred<void>; release: Promise<void> } | null = null;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "applyAndClaim") {
        return async (...args: Parameters<Store["applyAndClaim"]>) => {
          const answer = await target.applyAndClaim(...args);
          const hold = armed;
          armed = null;
          if (hold) {
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
    arm(release: Promise<void>) {
      const ran = deferred<void>();
      armed = { ran, release };
      return ran.promise;
    },
  };
}

test("a notice that came while a folded claim was out brings the next claim", { timeout: 30_000 }, async () => {
  const sqlite = await SqliteStore.open({ path: join(dir, "zart.db") });
  await sqlite.migrate();
  const { store, arm } = holdingFoldedClaim(sqlite);
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
    const claimRan = arm(release.promise);
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
