/**
 * The engine's operations in process, on SQLite with a manual clock: the worker's heartbeat cadence and its
 * row's removal at stop, how long another engine on the same file may serve a terminal record that a retry
 * made stale (no cross-process notices on SQLite), and the engine API's errors.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import type { ZartError } from "../src/core/errors.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { TERMINAL_RECORD_TTL_MS } from "../src/engine/terminal-cache.js";
import { openStore } from "../src/store/open-store.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";
import { eventually } from "./support/server-process.js";

const LEASE_MS = 30_000;

/** Fails its first execution attempt (no retries), succeeds on the next. */
const secondTime = defineTask({
  name: "second-time",
  retry: { maxAttempts: 1 },
  async run(ctx) {
    return ctx.step("maybe", () => {
      if (ctx.attempt === 1) throw new Error("first attempt fails");
      return { attempt: ctx.attempt };
    });
  },
});

async function rejection(promise: Promise<unknown>): Promise<ZartError> {
  try {
    await promise;
  } catch (error) {
    return error as ZartError;
  }
  assert.fail("expected a rejection");
}

describe("worker heartbeat", () => {
  it("is written at start, refreshed every third of the lease with the running count, and deleted at stop", async () => {
    const started = deferred<void>();
    const release = deferred<void>();
    const hold = defineTask({
      name: "hold",
      async run(ctx) {
        return ctx.step("held", async () => {
          started.resolve();
          await release.promise;
          return 1;
        });
      },
    });
    const h = await createTestEngine({ tasks: [hold], worker: { leaseMs: LEASE_MS, concurrency: 4 } });
    try {
      const t0 = h.clock.now();
      const [first] = await h.engine.workers();
      assert.ok(first);
      assert.deepEqual([first.tasks, first.concurrency, first.running, first.startedAt, first.lastSeenAt], [["hold"], 4, 0, t0, t0]);
      assert.equal(first.pid, process.pid);
      const { execution } = await h.engine.schedule({ task: "hold", data: {} });
      await started.promise;
      h.clock.advance(LEASE_MS / 3);
      const beat = await eventually(async () => {
        const [worker] = await h.engine.workers();
        return worker && worker.lastSeenAt === t0 + LEASE_MS / 3 ? worker : undefined;
      });
      assert.equal(beat.running, 1, "the heartbeat reports the running execution");
      assert.equal(beat.startedAt, t0);
      release.resolve();
      assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).status, "completed");
      await h.engine.stop();
      assert.deepEqual(await h.store.listWorkers(h.clock.now()), [], "a graceful stop deletes the row");
    } finally {
      release.resolve();
      await h.store.close();
      rmSync(dirname(h.path), { recursive: true, force: true });
    }
  });
});

describe("terminal records after a retry", () => {
  it("the retrying engine forgets its copy at once; another engine on the file serves its copy for at most the TTL", async () => {
    const h = await createTestEngine({ tasks: [secondTime] });
    const otherClock = new ManualClock(h.clock.now());
    const otherStore = await openStore(h.path);
    const other = await Engine.start({ store: otherStore, tasks: [], clock: otherClock, logger: silentLogger });
    try {
      const { execution } = await h.engine.schedule({ task: "second-time", data: {} });
      assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).status, "failed");
      assert.equal((await other.get(execution.id)).status, "failed");
      const resumed = await h.engine.retry(execution.id);
      assert.deepEqual([resumed.status, resumed.attempt], ["pending", 2]);
      assert.notEqual((await h.engine.get(execution.id)).status, "failed");
      // SQLite tells no other process: the other engine's copy stands until it expires.
      assert.equal((await other.get(execution.id)).status, "failed");
      otherClock.advance(TERMINAL_RECORD_TTL_MS);
      assert.notEqual((await other.get(execution.id)).status, "failed");
      assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).status, "completed");
    } finally {
      await other.stop();
      await otherStore.close();
      await h.close();
    }
  });
});

describe("the engine API's operations", () => {
  it("refuses unknown ids, statuses that cannot be retried and unknown steps with the HTTP API's codes", async () => {
    const h = await createTestEngine({ tasks: [secondTime] });
    try {
      assert.equal((await rejection(h.engine.steps("exec-0000000000000000"))).code, "execution_not_found");
      assert.equal((await rejection(h.engine.retry("exec-0000000000000000"))).code, "execution_not_found");
      assert.equal((await rejection(h.engine.rerun("nope"))).code, "execution_not_found");
      const { execution } = await h.engine.schedule({ task: "second-time", data: {} });
      await h.engine.waitForTerminal(execution.id, 1e9);
      assert.equal((await rejection(h.engine.rerun(execution.id, { fromStep: "nope" }))).code, "invalid_request");
      assert.equal((await rejection(h.engine.rerun(execution.id, { data: "text" }))).code, "invalid_data");
      await h.engine.retry(execution.id);
      assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).status, "completed");
      const refused = await rejection(h.engine.retry(execution.id));
      assert.equal(refused.code, "execution_not_retryable");
      assert.match(refused.message, /is completed and cannot be retried/);
      const timeline = await h.engine.steps(execution.id);
      assert.deepEqual(
        timeline.entries[0]?.attempts.map((a) => [a.attempt, a.executionAttempt, a.error?.message ?? null]),
        [
          [1, 1, "first attempt fails"],
          [2, 2, null],
        ],
      );
      const tasks = await h.engine.taskList();
      assert.deepEqual(
        tasks.map((t) => [t.name, t.workers, t.counts.completed]),
        [["second-time", 1, 1]],
      );
    } finally {
      await h.close();
    }
  });

  it("requests that are not objects are refused by index; key lengths count characters, not UTF-16 units", async () => {
    const h = await createTestEngine({ tasks: [secondTime], worker: false });
    try {
      const refused = await rejection(h.engine.scheduleMany([{ task: "second-time", data: {} }, null as never]));
      assert.deepEqual([refused.code, refused.message.startsWith("requests[1]: ")], ["invalid_data", true]);
      assert.equal((await rejection(h.engine.schedule(null as never))).code, "invalid_data");
      const emoji = "\u{1F600}".repeat(250);
      const { execution } = await h.engine.schedule({ task: "second-time", data: {}, idempotencyKey: `${emoji}12345` });
      assert.equal(execution.idempotencyKey, `${emoji}12345`, "255 characters (510 UTF-16 units) are a key");
      const tooLong = await rejection(h.engine.schedule({ task: "second-time", data: {}, idempotencyKey: `${emoji}123456` }));
      assert.equal(tooLong.code, "invalid_data");
    } finally {
      await h.close();
    }
  });

  it("a wait an ended execution left open reads closed in the timeline, and waiting again once a retry resumes it", async () => {
    const waiter = defineTask({ name: "waiter", run: (ctx) => ctx.waitForEvent("go") });
    const h = await createTestEngine({ tasks: [waiter] });
    try {
      const { execution } = await h.engine.schedule({ task: "waiter", data: {} });
      await h.outcome(execution.id, "parked");
      const cancelled = await h.engine.cancel(execution.id);
      const [closed] = (await h.engine.steps(execution.id)).entries;
      assert.deepEqual(
        [closed?.name, closed?.status, closed?.closed, closed?.completedAt],
        ["go", "completed", true, cancelled.completedAt],
      );
      await h.engine.retry(execution.id);
      await h.outcome(execution.id, "parked", 2);
      const [open] = (await h.engine.steps(execution.id)).entries;
      assert.deepEqual([open?.name, open?.status, open?.closed], ["go", "waiting", undefined]);
    } finally {
      await h.close();
    }
  });

  it("list refuses a query the stores cannot take, with invalid_request", async () => {
    const h = await createTestEngine({ tasks: [secondTime] });
    try {
      const good = { limit: 10, offset: 0, order: "asc" } as const;
      const bad = [
        {},
        { ...good, limit: 0 },
        { ...good, offset: -1 },
        { ...good, order: "up" },
        { ...good, status: "done" },
        { ...good, limit: 1.5 },
      ];
      for (const query of bad) {
        assert.equal((await rejection(h.engine.list(query as never))).code, "invalid_request", JSON.stringify(query));
      }
      assert.deepEqual(await h.engine.list(good), { executions: [], total: 0 });
    } finally {
      await h.close();
    }
  });
});
