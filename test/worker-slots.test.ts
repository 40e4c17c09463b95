/** Slot accounting: a run whose code is done gives up its slot while its final write commits. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import { deferred } from "./support/deferred.js";

test("a finished run frees its slot while its completion commits; settling runs beyond the concurrency hold slots", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-slots-"));
  const clock = new ManualClock();
  const started: number[] = [];
  const task = defineTask({
    name: "quick",
    async run(_ctx, data: { n: number }) {
      started.push(data.n);
      return data.n;
    },
  });
  const store = await openStore(join(dir, "zart.db"));
  const open = deferred();
  const twoWaiting = deferred();
  let completions = 0;
  // The real store, with every checkpoint write held until `open` (claims folded into a flush wait too).
  const apply = store.applyCheckpoints.bind(store);
  store.applyCheckpoints = async (batch) => {
    completions += batch.filter((c) => c.execution.status === "completed").length;
    if (completions >= 2) twoWaiting.resolve();
    await open.promise;
    return apply(batch);
  };
  let engine: Engine | null = null;
  try {
    const api = await Engine.start({ store, tasks: [task], clock, worker: false });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await api.schedule({ task: "quick", data: { n } })).execution.id);
    await api.stop();
    // One slot; the first claim takes all three (two into the prefetch buffer), so nothing below waits
    // for a claim: only slots decide what runs.
    engine = await Engine.start({ store, tasks: [task], clock, worker: { concurrency: 1, prefetch: 2 } });
    await twoWaiting.promise;
    // The second run started from the buffer while the first completion was still uncommitted; with two
    // settling runs for one slot, the third did not (the decision is made when the second one settles,
    // before its completion reaches the store).
    assert.equal(started.length, 2);
    assert.equal((await store.countByStatus()).completed, 0);
    open.resolve();
    for (const id of ids) assert.equal((await engine.waitForTerminal(id, 1e9)).status, "completed");
    assert.equal(started.length, 3);
  } finally {
    open.resolve();
    await engine?.stop();
    await (store as Store).close();
    rmSync(dir, { recursive: true, force: true });
  }
});
