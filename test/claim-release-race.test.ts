/**
 * After a claim whose answer was lost, the worker gives back the rows leased to it that it does not run
 * (`releaseUnheld`). A claim sent while that release is under way could commit first, and the release would
 * then give back the rows the claim just took while this worker runs them; another worker would run them
 * too (the chaos run saw two workers start one step 34 ms apart after every connection was cut). So no
 * claim goes out while a release is being written, and the claims wanted meanwhile follow it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { deferred } from "./support/deferred.js";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test("no claim goes out while a lost claim's release is being written; the wanted claim follows it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-release-race-"));
  const store = await openStore(join(dir, "zart.db"));
  const task = defineTask({ name: "release-race", run: (_ctx, data: { n: number }) => data.n });
  const claim = store.claim.bind(store);
  const release = store.releaseUnheld.bind(store);
  let claims = 0;
  let loseNextAnswer = false;
  let claimsDuringRelease = -1;
  const releaseStarted = deferred();
  const releaseGate = deferred();
  let engine: Engine | null = null;
  // The real store; one claim's answer is lost after it committed, and the release it causes is held open
  // until the test has asked the worker for another claim.
  store.claim = async (request) => {
    claims += 1;
    const result = await claim(request);
    if (loseNextAnswer) {
      loseNextAnswer = false;
      throw Object.assign(new Error("connection terminated"), { code: "57P01" });
    }
    return result;
  };
  store.releaseUnheld = async (...args) => {
    const before = claims;
    releaseStarted.resolve();
    engine?.worker?.kick();
    for (let i = 0; i < 5; i++) await turn();
    claimsDuringRelease = claims - before;
    await releaseGate.promise;
    return release(...args);
  };
  try {
    engine = await Engine.start({ store, tasks: [task], logger: silentLogger, worker: { concurrency: 2, eagerStart: false } });
    loseNextAnswer = true;
    // Not awaited yet: on SQLite the insert's notice wakes the claim inside the same write, and the
    // release it leads to is held below.
    const scheduled = engine.schedule({ task: "release-race", data: { n: 7 } });
    await releaseStarted.promise;
    for (let i = 0; i < 6; i++) await turn();
    assert.equal(claimsDuringRelease, 0, "a claim went out while the release was being written");
    releaseGate.resolve();
    const { execution } = await scheduled;
    // The released execution is claimed again after the release, and completes once.
    const done = await engine.waitForTerminal(execution.id, 30_000);
    assert.equal(done.status, "completed");
    assert.equal(done.outputJson, "7");
  } finally {
    releaseGate.resolve();
    await engine?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
