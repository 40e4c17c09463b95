/**
 * Timeouts against retries and late events. The worker's side is the same on both stores; on PostgreSQL the
 * late event's answer is checked in the behaviour suite (store-behaviour-events.ts). Time moves only on the
 * injected clock.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { EventTimeoutError } from "../src/core/errors.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask, type TaskDefinition } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import { ManualClock, OutcomeLog } from "../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "zart-timeouts-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const openFile = () => openStore(join(dir, `zart-${++files}.db`));

async function start(open: () => Promise<Store>, tasks: readonly TaskDefinition[]) {
  const store = await open();
  const clock = new ManualClock();
  const log = new OutcomeLog();
  const engine = await Engine.start({ store, tasks, clock, metrics: log, logger: silentLogger, random: () => 0.5 });
  return {
    engine,
    clock,
    outcome: (id: string, outcome: string, nth = 1) => log.waitFor((o) => o.executionId === id && o.outcome === outcome, nth),
    async close() {
      await engine.stop();
      await store.close();
    },
  };
}

test("a task-level retry's backoff ends at the execution's deadline at the latest; the execution then fails with timeout", async () => {
  const task = defineTask({
    name: "retry-past-deadline",
    timeout: "10m",
    retry: { maxAttempts: 3, backoff: "fixed", initialDelay: "1h", maxDelay: "2h", jitter: 0 },
    async run() {
      throw new Error("boom");
    },
  });
  const h = await start(openFile, [task]);
  try {
    const { execution } = await h.engine.schedule({ task: "retry-past-deadline", data: {} });
    await h.outcome(execution.id, "requeued");
    const waiting = await h.engine.get(execution.id);
    assert.equal(waiting.status, "waiting");
    // The deadline counts from the first start.
    assert.equal(waiting.runnableAt, (waiting.startedAt as number) + 600_000, "wakes at the deadline, not after the 1h backoff");
    h.clock.advance(600_000);
    await h.outcome(execution.id, "failed");
    const done = await h.engine.get(execution.id);
    assert.equal(done.status, "failed");
    assert.equal(done.error?.code, "timeout");
  } finally {
    await h.close();
  }
});

test("an event for a wait whose timeout a worker already recorded is refused saying the wait timed out", async () => {
  const task = defineTask({
    name: "late-after-recorded",
    async run(ctx) {
      try {
        await ctx.waitForEvent("answer", { timeout: "10m" });
      } catch (error) {
        if (!(error instanceof EventTimeoutError)) throw error;
      }
      return ctx.waitForEvent("next");
    },
  });
  const h = await start(openFile, [task]);
  try {
    const { execution } = await h.engine.schedule({ task: "late-after-recorded", data: {} });
    await h.outcome(execution.id, "parked");
    h.clock.advance(600_000);
    await h.outcome(execution.id, "parked", 2);
    assert.equal((await h.engine.get(execution.id)).waitingForEvent, "next", "the timeout is recorded; the run went on");
    await assert.rejects(h.engine.deliverEvent(execution.id, "answer", '"late"'), {
      code: "not_waiting_for_event",
      message: /the wait timed out/,
    });
    assert.equal(await h.engine.deliverEvent(execution.id, "next", '"on time"'), "delivered");
    await h.outcome(execution.id, "completed");
  } finally {
    await h.close();
  }
});

test("an event for an execution past its task timeout is refused saying the execution timed out; the execution then fails with timeout", async () => {
  const task = defineTask({
    name: "late-after-deadline",
    timeout: "10m",
    async run(ctx) {
      return ctx.waitForEvent("answer");
    },
  });
  const file = join(dir, `zart-${++files}.db`);
  const first = await start(() => openStore(file), [task]);
  let id: string;
  try {
    const { execution } = await first.engine.schedule({ task: "late-after-deadline", data: {} });
    id = execution.id;
    await first.outcome(id, "parked");
    const parked = await first.engine.get(id);
    assert.equal(parked.runnableAt, (parked.startedAt as number) + 600_000, "parked until the deadline at the latest");
  } finally {
    await first.close();
  }
  // An API-only process past the deadline, before any worker recorded the timeout.
  const store = await openStore(file);
  const clock = new ManualClock();
  clock.advance(600_000);
  const api = await Engine.start({ store, tasks: [task], clock, logger: silentLogger, worker: false });
  try {
    await assert.rejects(api.deliverEvent(id, "answer", '"late"'), {
      code: "not_waiting_for_event",
      message: /the execution timed out/,
    });
    assert.equal((await api.get(id)).status, "waiting", "nothing written");
  } finally {
    await api.stop();
    await store.close();
  }
  const worker = await start(() => openStore(file), [task]);
  try {
    worker.clock.advance(600_000);
    await worker.outcome(id, "failed");
    assert.equal((await worker.engine.get(id)).error?.code, "timeout");
  } finally {
    await worker.close();
  }
});
