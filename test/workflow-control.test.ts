import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExecutionAbortedError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { createTestEngine, OutcomeLog } from "../src/testing/index.js";
import { deferred, untilAborted } from "./support/deferred.js";

const LONG = 1e9;

describe("task-level retry and timeouts", () => {
  test("a task-level retry resumes from the last checkpoint and re-runs the failed step", async () => {
    const calls = { setup: 0, flaky: 0 };
    const task = defineTask({
      name: "task-retry",
      retry: { maxAttempts: 2, backoff: "fixed", initialDelay: "5s", jitter: 0 },
      async run(ctx) {
        await ctx.step("setup", () => ++calls.setup);
        const value = await ctx.step("flaky", () => {
          calls.flaky += 1;
          if (ctx.attempt === 1) throw new Error("first execution attempt fails");
          return ctx.attempt;
        });
        return { attempt: value };
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "task-retry", data: {} });
      await h.outcome(execution.id, "requeued");
      const row = await h.engine.get(execution.id);
      assert.equal(row.status, "waiting", "waiting out the task-level backoff");
      assert.equal(row.attempt, 2);
      h.clock.advance(5000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { attempt: 2 });
      assert.deepEqual(calls, { setup: 1, flaky: 2 });
    } finally {
      await h.close();
    }
  });

  test("the execution timeout aborts a running step and fails the execution; no further step runs", async () => {
    let after = 0;
    let stepSignal: AbortSignal | null = null;
    const started = deferred();
    const task = defineTask({
      name: "too-slow",
      timeout: "1m",
      async run(ctx) {
        await ctx.step("slow", (step) => {
          stepSignal = step.signal;
          started.resolve();
          return untilAborted(step.signal);
        });
        await ctx.step("after", () => ++after);
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "too-slow", data: {} });
      await started.promise;
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.match(done.error?.message ?? "", /timeout/i);
      assert.equal(after, 0);
      assert.equal((stepSignal as AbortSignal | null)?.aborted, true);
    } finally {
      await h.close();
    }
  });

  test("an execution parked past its timeout is failed at the deadline", async () => {
    const task = defineTask({
      name: "sleeps-too-long",
      timeout: "10m",
      async run(ctx) {
        await ctx.sleep("long", "1h");
        return "unreachable";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "sleeps-too-long", data: {} });
      await h.outcome(execution.id, "parked");
      assert.equal((await h.engine.get(execution.id)).runnableAt, h.clock.now() + 600_000, "wakes at the deadline, not the sleep's end");
      h.clock.advance(600_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "timeout");
    } finally {
      await h.close();
    }
  });
});

describe("cancellation", () => {
  test("cancel at each status", async () => {
    let afterCancel = 0;
    const running = deferred();
    let stepSignal: AbortSignal | null = null;
    const tasks = [
      defineTask({
        name: "runs",
        async run(ctx) {
          await ctx.step("long", (step) => {
            stepSignal = step.signal;
            running.resolve();
            return untilAborted(step.signal);
          });
          await ctx.step("next", () => ++afterCancel);
        },
      }),
      defineTask({ name: "waits", run: (ctx) => ctx.waitForEvent("go") }),
      defineTask({ name: "done", run: () => "ok" }),
      defineTask({
        name: "fails",
        run: () => {
          throw new Error("bad");
        },
      }),
    ];
    const h = await createTestEngine({ tasks });
    try {
      // running: the store says cancelled at once; the code hears it through its signal; nothing more runs.
      const runs = (await h.engine.schedule({ task: "runs", data: {} })).execution;
      await running.promise;
      const cancelled = await h.engine.cancel(runs.id);
      assert.equal(cancelled.status, "cancelled");
      assert.ok(cancelled.completedAt !== null);
      await h.outcome(runs.id, "aborted");
      assert.equal((stepSignal as AbortSignal | null)?.aborted, true);
      assert.ok((stepSignal as AbortSignal | null)?.reason instanceof ExecutionAbortedError);
      assert.equal(afterCancel, 0);
      assert.equal((await h.engine.get(runs.id)).status, "cancelled");
      // cancelling again is idempotent
      assert.equal((await h.engine.cancel(runs.id)).status, "cancelled");

      // waiting
      const waits = (await h.engine.schedule({ task: "waits", data: {} })).execution;
      await h.outcome(waits.id, "parked");
      assert.equal((await h.engine.cancel(waits.id)).status, "cancelled");
      await assert.rejects(h.engine.deliverEvent(waits.id, "go", "{}"), { code: "not_waiting_for_event" });

      // completed and failed are not cancellable
      const done = (await h.engine.schedule({ task: "done", data: {} })).execution;
      await h.engine.waitForTerminal(done.id, LONG);
      await assert.rejects(h.engine.cancel(done.id), { code: "execution_not_cancellable" });
      const fails = (await h.engine.schedule({ task: "fails", data: {} })).execution;
      assert.equal((await h.engine.waitForTerminal(fails.id, LONG)).status, "failed");
      await assert.rejects(h.engine.cancel(fails.id), { code: "execution_not_cancellable" });
      await assert.rejects(h.engine.cancel("exec-unknown123"), { code: "execution_not_found" });
      const stats = await h.engine.stats();
      assert.deepEqual(stats, { pending: 0, running: 0, waiting: 0, completed: 1, failed: 1, cancelled: 2 });
    } finally {
      await h.close();
    }
  });

  test("a pending execution is cancelled at once and never runs", async () => {
    let ran = false;
    const task = defineTask({
      name: "never",
      run: () => {
        ran = true;
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: false });
    try {
      const { execution } = await h.engine.schedule({ task: "never", data: {} });
      assert.equal((await h.engine.cancel(execution.id)).status, "cancelled");
      await h.restart({ worker: {} });
      const { claimed } = await h.store.claim({ workerId: "probe", tasks: ["never"], limit: 10, now: h.clock.now(), leaseMs: 1000 });
      assert.equal(claimed.length, 0);
      assert.equal(ran, false);
    } finally {
      await h.close();
    }
  });
});

describe("leases, fencing and shutdown", () => {
  test("a stale worker's result is rejected and its code aborted; the new holder finishes", async () => {
    const firstStarted = deferred();
    const releaseFirst = deferred();
    const signals: AbortSignal[] = [];
    let calls = 0;
    const task = defineTask({
      name: "contended",
      async run(ctx) {
        signals.push(ctx.signal);
        return ctx.step("work", async () => {
          calls += 1;
          if (calls === 1) {
            firstStarted.resolve();
            await releaseFirst.promise;
            return "stale";
          }
          return "fresh";
        });
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { leaseMs: 30_000 } });
    const log = new OutcomeLog();
    const otherStore = await openStore(h.path);
    let other: Engine | null = null;
    try {
      const { execution } = await h.engine.schedule({ task: "contended", data: {} });
      await firstStarted.promise;
      // Another process whose clock is past the lease (the first worker is "paused") takes it over.
      const laterClock = { ...h.clock, now: () => h.clock.now() + 31_000 } as typeof h.clock;
      laterClock.setTimer = h.clock.setTimer.bind(h.clock);
      laterClock.sleep = h.clock.sleep.bind(h.clock);
      other = await Engine.start({ store: otherStore, tasks: [task], clock: laterClock, metrics: log, migrate: false });
      await log.waitFor((o) => o.executionId === execution.id && o.outcome === "completed");
      releaseFirst.resolve();
      await h.outcome(execution.id, "aborted");
      const done = await h.engine.get(execution.id);
      assert.equal(done.status, "completed");
      assert.equal(JSON.parse(done.outputJson ?? "null"), "fresh");
      assert.equal(done.leaseToken, 2);
      assert.equal(signals[0]?.aborted, true, "the stale worker's code was told to stop");
    } finally {
      await other?.stop();
      await otherStore.close();
      await h.close();
    }
  });

  test("graceful shutdown releases unfinished work so another worker resumes it at once", async () => {
    const started = deferred();
    let calls = 0;
    const task = defineTask({
      name: "drain",
      async run(ctx) {
        await ctx.step("first", () => "done");
        return ctx.step("hold", async (step) => {
          calls += 1;
          if (calls === 1) {
            started.resolve();
            await untilAborted(step.signal);
          }
          return "resumed";
        });
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { shutdownGraceMs: 5000 } });
    try {
      const { execution } = await h.engine.schedule({ task: "drain", data: {} });
      await started.promise;
      const stopping = h.engine.stop();
      await h.clock.whenSleeping(1); // the shutdown grace period
      h.clock.advance(5000);
      await stopping;
      const released = await h.engine.get(execution.id);
      assert.equal(released.status, "pending");
      assert.equal(released.runnableAt, h.clock.now(), "claimable now, not after the lease");
      assert.equal(released.stepsCompleted, 1);
      await h.restart();
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(JSON.parse(done.outputJson ?? "null"), "resumed");
    } finally {
      await h.close();
    }
  });
});

describe("code that ignores its signal", () => {
  test("a run stuck outside any step still times out, and shutdown does not wait for it", async () => {
    const never = new Promise<never>(() => {});
    const started = [deferred(), deferred()];
    let runs = 0;
    const task = defineTask({
      name: "stuck",
      timeout: "1m",
      async run(ctx) {
        await ctx.step(`first-${ctx.executionId}`, () => 1);
        started[runs++]?.resolve();
        await never; // not a ctx call: only the runner's own abort race can end this run
      },
    });
    const h = await createTestEngine({ tasks: [task], worker: { shutdownGraceMs: 5000 } });
    try {
      const { execution } = await h.engine.schedule({ task: "stuck", data: {} });
      await started[0]?.promise;
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "timeout");

      const second = (await h.engine.schedule({ task: "stuck", data: {} })).execution;
      await started[1]?.promise;
      const stopping = h.engine.stop();
      await h.clock.whenSleeping(1); // the shutdown grace period
      h.clock.advance(5000);
      await stopping;
      assert.equal((await h.store.getExecution(second.id))?.status, "pending", "released for another worker");
    } finally {
      await h.close();
    }
  });
});

describe("scheduleMany", () => {
  test("schedules a batch that runs; a bad request anywhere writes nothing and names its index", async () => {
    const task = defineTask({ name: "double", run: (_ctx, data: { i: number }) => data.i * 2 });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const refused = [
        [
          { task: "double", data: { i: 1 } },
          { task: "double", data: [] },
        ],
        [
          { task: "double", data: { i: 1 } },
          { task: "nope", data: {} },
        ],
      ];
      for (const requests of refused) {
        await assert.rejects(h.engine.scheduleMany(requests), (error: Error) => /^requests\[1\]: /.test(error.message));
      }
      assert.equal((await h.engine.stats()).pending, 0, "nothing of a refused batch is stored");
      const results = await h.engine.scheduleMany(
        Array.from({ length: 20 }, (_, i) => ({ task: "double", data: { i }, idempotencyKey: i === 19 ? "k-0" : `k-${i}` })),
      );
      assert.equal(results.filter((r) => r.created).length, 19);
      assert.equal(results[19]?.execution.id, results[0]?.execution.id, "a key repeated in the batch answers with its holder");
      for (const [i, result] of results.slice(0, 19).entries()) {
        const done = await h.engine.waitForTerminal(result.execution.id, LONG);
        assert.equal(done.status, "completed");
        assert.equal(JSON.parse(done.outputJson ?? "null"), i * 2);
      }
      await assert.rejects(h.engine.scheduleMany(Array.from({ length: 10_001 }, () => ({ task: "double", data: {} }))), /at most 10000/);
    } finally {
      await h.close();
    }
  });
});
