/**
 * A worker that stood still for longer than its lease (a stopped process, a machine that swapped, a long
 * pause) comes back with runs whose leases may have been taken meanwhile. It must not start a step
 * function before it knows its lease still holds: another worker may have run that step already. Here the
 * worker's (injected) clock stands still while another worker claims the execution with the lease over,
 * then jumps past the lease, as a stopped process's clock does when it is continued, in the same turn in
 * which the workflow's code goes on to its next step. The chaos run found a step run twice this way, by a
 * worker continued after a stop while another worker had run the step in its place.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import type { Checkpoint, Store } from "../src/store/store.js";
import { deferred } from "./support/deferred.js";
import { TestSchema } from "./support/postgres.js";

const schema = new TestSchema("stood");
after(() => schema.drop());

const LEASE_MS = 30_000;

/** Step `a`, then code that waits on something of its own (the pause point), then step `b`; each step run is logged. */
function pausingTask(name: string) {
  const reachedGate = deferred();
  const gate = deferred();
  const runs: string[] = [];
  const task = defineTask({
    name,
    async run(ctx) {
      await ctx.step("a", () => {
        runs.push("a");
        return 1;
      });
      reachedGate.resolve();
      await gate.promise;
      return ctx.step("b", () => {
        runs.push("b");
        return 2;
      });
    },
  });
  return { task, reachedGate, gate, runs };
}

interface Stood {
  api: Engine;
  worker: Engine;
  id: string;
  runs: string[];
  /** The other worker's fencing token when it took the execution. */
  otherToken: number | null;
}

/** The store, resolving `committed` once a write carrying step `name`'s record has committed. */
function watchStep(store: Store, name: string): { store: Store; committed: Promise<void> } {
  const committed = deferred();
  const carries = (batch: readonly Checkpoint[], results: boolean[]) =>
    batch.some((checkpoint, i) => results[i] && checkpoint.steps?.some((step) => step.name === name));
  const watched = new Proxy(store, {
    get(target, property) {
      if (property === "applyCheckpoints") {
        return async (batch: readonly Checkpoint[]) => {
          const results = await target.applyCheckpoints(batch);
          if (carries(batch, results)) committed.resolve();
          return results;
        };
      }
      if (property === "applyAndClaim") {
        return async (batch: readonly Checkpoint[], claim: Parameters<Store["applyAndClaim"]>[1]) => {
          const answer = await target.applyAndClaim(batch, claim);
          if (carries(batch, answer.results)) committed.resolve();
          return answer;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: watched, committed: committed.promise };
}

/**
 * Runs step `a` on a worker, stands the worker's clock still while (`takenMeanwhile`) another worker claims
 * the execution `pauseMs` later, then moves the worker's clock by `pauseMs` and lets its code go on.
 */
async function standStill(name: string, takenMeanwhile: boolean, pauseMs: number, body: (stood: Stood) => Promise<void>) {
  const { task, reachedGate, gate, runs } = pausingTask(name);
  const stores = [await schema.open(), await schema.open(), await schema.open()] as const;
  const [workerStore, apiStore, otherStore] = stores;
  const clock = new ManualClock(Date.parse("2026-06-01T12:00:00Z"));
  const api = await Engine.start({
    store: apiStore,
    tasks: [task],
    clock: new ManualClock(clock.now()),
    logger: silentLogger,
    worker: false,
  });
  const watched = watchStep(workerStore, "a");
  const worker = await Engine.start({ store: watched.store, tasks: [task], clock, logger: silentLogger, worker: { leaseMs: LEASE_MS } });
  try {
    const { execution } = await api.schedule({ task: task.name, data: {} });
    await reachedGate.promise;
    await watched.committed;
    assert.equal((await api.get(execution.id)).stepsCompleted, 1);
    let otherToken: number | null = null;
    if (takenMeanwhile) {
      const other = await otherStore.claim({
        workerId: "other",
        tasks: [task.name],
        limit: 10,
        now: worker.options.clock.now() + pauseMs,
        leaseMs: LEASE_MS,
      });
      assert.deepEqual(
        other.claimed.map((c) => c.execution.id),
        [execution.id],
        "the other worker takes the execution once its lease is over",
      );
      otherToken = other.claimed[0]!.execution.leaseToken;
    }
    // The worker is continued: its clock jumps, and its code goes on in the same turn.
    clock.advance(pauseMs);
    gate.resolve();
    await body({ api, worker, id: execution.id, runs, otherToken });
  } finally {
    gate.resolve();
    await worker.stop();
    await api.stop();
    for (const store of stores) await store.close();
  }
}

test("a worker continued after its lease ran out does not start the next step when another worker took the execution", () =>
  standStill("stood-taken", true, LEASE_MS + 1_000, async ({ api, worker, id, runs, otherToken }) => {
    await worker.stop(); // waits for its run to end, however it ends
    assert.deepEqual(runs, ["a"], "step b ran on a lease another worker held");
    const row = await api.get(id);
    assert.equal(row.status, "running");
    assert.equal(row.stepsCompleted, 1);
    assert.equal(row.leaseToken, otherToken, "the other worker's claim stands");
  }));

test("a worker continued after half its lease renews it and goes on when nobody took the execution", () =>
  standStill("stood-kept", false, (LEASE_MS * 3) / 4, async ({ api, id, runs }) => {
    const done = await api.waitForTerminal(id, 365 * 24 * 3_600_000);
    assert.equal(done.status, "completed");
    assert.deepEqual(runs, ["a", "b"]);
  }));
