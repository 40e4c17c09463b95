/**
 * Slot and run accounting: a run whose code is done gives up its slot while its final write commits; a run
 * whose final write fails is still reported as ended; renewals carry one lease per execution.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { type Logger, silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import { createTestEngine } from "../src/testing/index.js";
import type { ExecutionRunner } from "../src/worker/execution-runner.js";
import { Slots } from "../src/worker/slots.js";
import { deferred } from "./support/deferred.js";

test("a finished run frees its slot while its completion commits; settling runs beyond concurrency + prefetch hold slots", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-slots-"));
  const clock = new ManualClock();
  let committed = 0;
  /** For each started execution: how many completions had committed when it started. */
  const committedAtStart = new Map<number, number>();
  const started = [deferred(), deferred(), deferred()];
  const task = defineTask({
    name: "quick",
    async run(_ctx, data: { n: number }) {
      committedAtStart.set(data.n, committed);
      started[committedAtStart.size - 1]?.resolve();
      return data.n;
    },
  });
  const store = await openStore(join(dir, "zart.db"));
  const open = deferred();
  // The real store, with every checkpoint write held until `open` (a claim folded into a flush waits too;
  // the claim loop's own claims, on notices, do not).
  const apply = store.applyCheckpoints.bind(store);
  store.applyCheckpoints = async (batch) => {
    await open.promise;
    const results = await apply(batch);
    committed += results.filter(Boolean).length;
    return results;
  };
  let engine: Engine | null = null;
  try {
    // One slot and a prefetch of one: up to two runs (concurrency + prefetch) may settle without holding a
    // slot; a third settling run holds it.
    engine = await Engine.start({ store, tasks: [task], clock, worker: { concurrency: 1, prefetch: 1 } });
    const schedule = async (n: number) => (await engine?.schedule({ task: "quick", data: { n }, eager: false }))?.execution.id as string;
    const ids = [await schedule(0), await schedule(1)];
    await started[1]?.promise;
    // Both settled with nothing committed. Two more: the notice's claim takes both, the first starts (two
    // settling runs hold no slot), settles as the third, and then holds the slot: the last waits for a commit.
    ids.push(await schedule(2), await schedule(3));
    await started[2]?.promise;
    open.resolve();
    for (const id of ids) assert.equal((await engine.waitForTerminal(id, 1e9)).status, "completed");
    assert.deepEqual(
      [0, 1, 2].map((n) => committedAtStart.get(n)),
      [0, 0, 0],
    );
    assert.ok((committedAtStart.get(3) ?? 0) >= 1, `the fourth started after ${committedAtStart.get(3)} commits`);
  } finally {
    open.resolve();
    await engine?.stop();
    await (store as Store).close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Drains `count` executions of `task` through a worker with default settings; returns every claim's row limit. */
async function claimLimits(task: ReturnType<typeof defineTask>, clock: ManualClock, count: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "zart-prefetch-"));
  const store = await openStore(join(dir, "zart.db"));
  const limits: number[] = [];
  const claim = store.claim.bind(store);
  store.claim = (request) => {
    limits.push(request.limit);
    return claim(request);
  };
  const applyAndClaim = store.applyAndClaim.bind(store);
  store.applyAndClaim = (batch, request) => {
    limits.push(request.limit);
    return applyAndClaim(batch, request);
  };
  let engine: Engine | null = null;
  try {
    const api = await Engine.start({ store, tasks: [task], clock, worker: false });
    const ids: string[] = [];
    for (let n = 0; n < count; n++) ids.push((await api.schedule({ task: task.name, data: { n } })).execution.id);
    await api.stop();
    engine = await Engine.start({ store, tasks: [task], clock, worker: { concurrency: 2 } });
    for (const id of ids) assert.equal((await engine.waitForTerminal(id, 1e9)).status, "completed");
    return limits;
  } finally {
    await engine?.stop();
    await (store as Store).close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('prefetch "auto" (the default) claims ahead while runs are short, and not once they are long', async () => {
  const quickClock = new ManualClock();
  const quick = defineTask({ name: "quick", run: (_ctx, data: { n: number }) => data.n });
  const quickLimits = await claimLimits(quick, quickClock, 40);
  // Runs take 0 ms on the manual clock: after the first ones, claims ask for more rows than the two slots.
  assert.ok(Math.max(...quickLimits) > 2, `claims asked for ${quickLimits.join(",")}`);

  const slowClock = new ManualClock();
  const slow = defineTask({
    name: "slow",
    run: (_ctx, data: { n: number }) => {
      slowClock.advance(50); // each run's code takes 50 ms by the worker's clock
      return data.n;
    },
  });
  const slowLimits = await claimLimits(slow, slowClock, 20);
  assert.ok(Math.max(...slowLimits) <= 2, `claims asked for ${slowLimits.join(",")}`);
});

test("a run whose final write the store fails is reported as ended (aborted), once, so runs started and ended stay level", async () => {
  const failed = deferred();
  const logger: Logger = {
    ...silentLogger,
    error: (_obj, msg) => {
      if (msg === "execution could not record its outcome") failed.resolve();
    },
    child: () => logger,
  };
  const task = defineTask({ name: "unrecorded", run: () => "done" });
  const h = await createTestEngine({ tasks: [task], logger });
  // The completion is refused for good (not a transient error, which would be retried), and so is the
  // failure the run then writes in its place.
  const failing = (batch: Parameters<Store["applyCheckpoints"]>[0]) => {
    if (batch.some((c) => c.patch.transition === "complete" || c.patch.transition === "fail"))
      throw Object.assign(new Error("CHECK constraint failed"), { code: "SQLITE_CONSTRAINT_CHECK" });
  };
  const apply = h.store.applyCheckpoints.bind(h.store);
  h.store.applyCheckpoints = async (batch) => {
    failing(batch);
    return apply(batch);
  };
  const applyAndClaim = h.store.applyAndClaim.bind(h.store);
  h.store.applyAndClaim = async (batch, request) => {
    failing(batch);
    return applyAndClaim(batch, request);
  };
  try {
    const { execution } = await h.engine.schedule({ task: "unrecorded", data: {}, eager: false });
    await failed.promise;
    assert.deepEqual(
      h.log.outcomes.filter((o) => o.executionId === execution.id).map((o) => o.outcome),
      ["aborted"],
    );
  } finally {
    await h.close();
  }
});

test("renewals send one lease per execution: a settling run's older lease is left out while a newer run of it is running", () => {
  // Only what fences() reads of a runner: its execution and the lease it holds.
  const runner = (executionId: string, leaseToken: number) =>
    ({ ctx: { executionId }, fence: { executionId, leaseToken } }) as unknown as ExecutionRunner;
  const slots = new Slots(4, 0);
  slots.settling.set("exec-parked", runner("exec-parked", 1));
  slots.running.set("exec-parked", runner("exec-parked", 2));
  slots.settling.set("exec-ending", runner("exec-ending", 5));
  slots.running.set("exec-held", runner("exec-held", 7));
  const sent = slots.fences(new Set(["exec-held"])).map((f) => `${f.executionId}:${f.leaseToken}`);
  assert.deepEqual(sent.sort(), ["exec-ending:5", "exec-parked:2"], "the newer lease only; none for an unstored execution");
});
