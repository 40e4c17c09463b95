/**
 * A claim that comes back later than its lease allows (a stalled connection, a network that dropped
 * packets for a while) is not run on a lapsed lease. The claim's lease runs from when it was sent; here
 * the worker's (injected) clock moves past the whole lease while the claim is under way, as it would in
 * a 30 s network outage. The worker renews the claim before running anything, so another worker looking
 * right after takes nothing, and the step runs once. Before, the worker ran the execution at once while a
 * second worker could claim it too (the chaos run found two workers running one step that way).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { Engine } from "../src/engine/engine.js";
import type { ClaimRequest, NewExecution, Store } from "../src/store/store.js";
import { TestSchema } from "./support/postgres.js";
import { heldStepTask } from "./support/test-tasks.js";

const schema = new TestSchema("late");
after(() => schema.drop());

const LEASE_MS = 30_000;
/**
 * How long to wait for the end, on the injected clock: every claim of the worker moves that clock past a
 * whole lease, and the worker may poll again before the completion commits, so a wait of one lease
 * could time out on a healthy run.
 */
const WAIT_MS = 365 * 24 * 3_600_000;

/** The store, with every call of `method` (a claim, an insert) taking `delayMs` of the worker's clock to come back. */
function slow(store: Store, method: "claim" | "createExecution", clock: ManualClock, delayMs: number): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === method) {
        return async (request: ClaimRequest & NewExecution) => {
          const result = await target[method](request);
          clock.advance(delayMs);
          return result;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** One execution, its step held open; `eager` schedules it through the worker's own engine (eager start). */
async function raceForLapsedLease(method: "claim" | "createExecution"): Promise<void> {
  const { task, started, gate, runs } = heldStepTask(`late-${method}`);
  const workerStore = await schema.open();
  const apiStore = await schema.open();
  const otherStore = await schema.open();
  const clock = new ManualClock(Date.parse("2026-06-01T12:00:00Z"));
  const api = await Engine.start({ store: apiStore, tasks: [task], clock, logger: silentLogger, worker: false });
  const eager = method === "createExecution";
  const worker = await Engine.start({
    store: slow(workerStore, method, clock, LEASE_MS + 1_000),
    tasks: [task],
    clock,
    logger: silentLogger,
    worker: { leaseMs: LEASE_MS, eagerStart: eager },
  });
  try {
    const { execution } = await (eager ? worker : api).schedule({ task: task.name, data: {} });
    await started.promise;
    const other = await otherStore.claim({
      workerId: "other",
      tasks: [task.name],
      limit: 10,
      now: worker.options.clock.now(),
      leaseMs: LEASE_MS,
    });
    assert.deepEqual(
      other.claimed.map((c) => c.execution.id),
      [],
      "another worker took the execution while this one ran it",
    );
    gate.resolve();
    const done = await api.waitForTerminal(execution.id, WAIT_MS);
    assert.equal(done.status, "completed");
    assert.deepEqual(runs, [execution.id], "the step ran once");
  } finally {
    gate.resolve();
    await worker.stop();
    await api.stop();
    for (const store of [workerStore, apiStore, otherStore]) await store.close();
  }
}

test("a claim back after its lease ended is renewed before it runs; nobody else takes it", () => raceForLapsedLease("claim"));

test("an eager start whose insert came back after its lease ended is renewed before its first step", () =>
  raceForLapsedLease("createExecution"));
