import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StepFailedError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";

const LONG = 1e9;

describe("steps", () => {
  test("recorded steps replay without running again", async () => {
    const calls = { a: 0, b: 0, c: 0 };
    const task = defineTask({
      name: "replay",
      async run(ctx, data: { n: number }) {
        const a = await ctx.step("a", () => ++calls.a && data.n + 1);
        const b = await ctx.step("b", () => ++calls.b && a * 2);
        await ctx.sleep("pause", "1m");
        const c = await ctx.step("c", () => ++calls.c && b - 1);
        return { a, b, c };
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "replay", data: { n: 1 } });
      await h.outcome(execution.id, "parked");
      const parked = await h.engine.get(execution.id);
      assert.equal(parked.status, "waiting");
      assert.equal(parked.currentStep, "pause");
      assert.equal(parked.stepsCompleted, 2);
      assert.ok(parked.startedAt !== null);
      assert.deepEqual(calls, { a: 1, b: 1, c: 0 });
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { a: 2, b: 4, c: 3 });
      assert.deepEqual(calls, { a: 1, b: 1, c: 1 }, "a and b ran once although run() replayed");
      assert.equal(done.stepsCompleted, 4);
      assert.equal(done.currentStep, null);
      assert.ok(done.completedAt !== null);
    } finally {
      await h.close();
    }
  });

  test("a recorded failure replays as the same error without calling the step again", async () => {
    let boomCalls = 0;
    const task = defineTask({
      name: "caught",
      async run(ctx) {
        let message = "";
        try {
          await ctx.step("boom", () => {
            boomCalls += 1;
            throw new Error("card declined");
          });
        } catch (error) {
          assert.ok(error instanceof StepFailedError);
          assert.equal(error.step, "boom");
          message = error.message;
        }
        await ctx.sleep("pause", 1000);
        return { message };
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "caught", data: {} });
      await h.outcome(execution.id, "parked");
      h.clock.advance(1000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      const { message } = JSON.parse(done.outputJson ?? "{}") as { message: string };
      assert.match(message, /card declined/);
      assert.equal(boomCalls, 1);
      const detail = await h.engine.stepDetail(execution.id);
      assert.equal(detail.steps.find((s) => s.name === "boom")?.state, "failed");
    } finally {
      await h.close();
    }
  });

  test("short backoffs wait in place on the clock; every attempt is kept", async () => {
    let attempts = 0;
    const starts: number[] = [];
    const task = defineTask({
      name: "retry-in-place",
      async run(ctx) {
        return ctx.step(
          "unreliable",
          (step) => {
            attempts += 1;
            starts.push(step.startedAt.getTime());
            if (step.attempt < 3) throw new Error(`failure ${step.attempt}`);
            return { attempt: step.attempt };
          },
          { retry: { maxAttempts: 5, backoff: "fixed", initialDelay: 1000, jitter: 0 } },
        );
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "retry-in-place", data: {} });
      await h.clock.whenSleeping(1);
      assert.equal(attempts, 1);
      h.clock.advance(999);
      assert.equal(attempts, 1, "no retry before the backoff is over");
      h.clock.advance(1);
      await h.clock.whenSleeping(1);
      h.clock.advance(1000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { attempt: 3 });
      const detail = await h.engine.stepDetail(execution.id);
      assert.deepEqual(
        detail.attempts.map((a) => [a.attempt, a.error.message]),
        [
          [1, "failure 1"],
          [2, "failure 2"],
        ],
      );
      assert.equal(detail.steps[0]?.attempts, 3);
      // Each attempt's context says when it started, on the engine's clock: a backoff apart.
      assert.deepEqual(
        detail.attempts.map((a) => a.startedAt),
        starts.slice(0, 2),
      );
      assert.deepEqual([starts[1]! - starts[0]!, starts[2]! - starts[1]!], [1000, 1000]);
    } finally {
      await h.close();
    }
  });

  test("long exponential backoffs park the execution until the retry time", async () => {
    let attempts = 0;
    const task = defineTask({
      name: "retry-parked",
      async run(ctx) {
        return ctx.step(
          "slow-retry",
          () => {
            attempts += 1;
            if (attempts < 3) throw new Error("not yet");
            return "ok";
          },
          { retry: { maxAttempts: 3, backoff: "exponential", initialDelay: "10s", factor: 2, jitter: 0.2, maxDelay: "1h" } },
        );
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "retry-parked", data: {} });
      await h.outcome(execution.id, "parked", 1);
      let row = await h.engine.get(execution.id);
      assert.equal(row.status, "waiting");
      assert.equal(row.currentStep, "slow-retry");
      // jitter 0.2 with random() = 0.5 (the harness) takes 10% off: 10 s → 9 s.
      assert.equal(row.runnableAt, h.clock.now() + 9000);
      h.clock.advance(9000);
      await h.outcome(execution.id, "parked", 2);
      row = await h.engine.get(execution.id);
      assert.equal(row.runnableAt, h.clock.now() + 18_000, "second retry waits 20 s less 10% jitter");
      h.clock.advance(18_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.equal(attempts, 3);
    } finally {
      await h.close();
    }
  });

  test("exhausted retries fail the execution with an error naming the step", async () => {
    const task = defineTask({
      name: "always-fails",
      async run(ctx) {
        await ctx.step("charge", () => {
          throw new Error("gateway down");
        });
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "always-fails", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.step, "charge");
      assert.match(done.error?.message ?? "", /charge.*gateway down/);
      assert.ok(done.completedAt !== null);
    } finally {
      await h.close();
    }
  });

  test("parallel steps run concurrently and each is recorded", async () => {
    const gates = [deferred(), deferred(), deferred()];
    let running = 0;
    let maxRunning = 0;
    const allStarted = deferred();
    const task = defineTask({
      name: "parallel",
      async run(ctx) {
        const results = await Promise.all(
          gates.map((gate, i) =>
            ctx.step(`part-${i}`, async () => {
              running += 1;
              maxRunning = Math.max(maxRunning, running);
              if (running === gates.length) allStarted.resolve();
              await gate.promise;
              running -= 1;
              return i * 10;
            }),
          ),
        );
        return { results };
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "parallel", data: {} });
      await allStarted.promise;
      assert.equal(maxRunning, 3);
      for (const gate of gates.reverse()) gate.resolve();
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { results: [0, 10, 20] });
      assert.equal(done.stepsCompleted, 3);
      const detail = await h.engine.stepDetail(execution.id);
      assert.deepEqual(detail.steps.map((s) => s.name).sort(), ["part-0", "part-1", "part-2"]);
    } finally {
      await h.close();
    }
  });

  test("a step that ends in the turn it started in is written with its record only; a waiting step is named while it runs", async () => {
    const gate = deferred();
    const task = defineTask({
      name: "progress-writes",
      async run(ctx) {
        await ctx.step("quick", () => 1);
        await ctx.step("slow", () => gate.promise);
        return "done";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    // Every checkpoint the store is given: the step it names as running and the records it carries.
    const written: string[] = [];
    const slowNamed = deferred();
    const apply = h.store.applyCheckpoints.bind(h.store);
    h.store.applyCheckpoints = async (batch) => {
      const results = await apply(batch);
      for (const c of batch) {
        const current = c.patch.transition === "progress" ? c.patch.currentStep : null;
        written.push(`${c.patch.transition} ${current ?? "-"} +${(c.steps ?? []).map((s) => s.name).join(",")}`);
        if (current === "slow") slowNamed.resolve();
      }
      return results;
    };
    h.store.applyAndClaim = async (batch, request) => ({
      results: await h.store.applyCheckpoints(batch),
      claim: await h.store.claim(request),
    });
    try {
      const { execution } = await h.engine.schedule({ task: "progress-writes", data: {}, eager: false });
      await slowNamed.promise;
      assert.equal((await h.engine.get(execution.id)).currentStep, "slow", "the waiting step is named while it runs");
      gate.resolve();
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      assert.deepEqual(written, ["progress - +quick", "progress slow +", "complete - +slow"], "no write names the quick step as running");
    } finally {
      gate.resolve();
      await h.close();
    }
  });

  test("a failing parallel branch fails the execution instead of hanging it", async () => {
    const task = defineTask({
      name: "parallel-fail",
      async run(ctx) {
        await Promise.all([ctx.step("good", () => 1), ctx.step("bad", () => Promise.reject(new Error("nope"))), ctx.sleep("nap", "1h")]);
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "parallel-fail", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.step, "bad");
    } finally {
      await h.close();
    }
  });
});

describe("bad input", () => {
  test("a step result that is not JSON fails the step with a clear message", async () => {
    const cases: Array<[string, () => unknown, RegExp]> = [
      ["fn", () => ({ f: () => 1 }), /\$\.f is a function/],
      ["bigint", () => ({ n: 10n }), /\$\.n is a BigInt/],
      ["date", () => new Date(0), /is a Date/],
      ["nan", () => [1, Number.NaN], /\$\[1\] is NaN/],
    ];
    const tasks = cases.map(([name, make]) => defineTask({ name: `bad-${name}`, run: (ctx) => ctx.step("produce", make) }));
    const h = await createTestEngine({ tasks });
    try {
      for (const [name, , pattern] of cases) {
        const { execution } = await h.engine.schedule({ task: `bad-${name}`, data: {} });
        const done = await h.engine.waitForTerminal(execution.id, LONG);
        assert.equal(done.status, "failed", name);
        assert.match(done.error?.message ?? "", /not JSON-serialisable/, name);
        assert.match(done.error?.message ?? "", pattern, name);
      }
    } finally {
      await h.close();
    }
  });

  test("a duplicate step name fails the execution even if the workflow catches it", async () => {
    let secondRan = false;
    const task = defineTask({
      name: "dupe",
      async run(ctx) {
        await ctx.step("same", () => 1);
        try {
          await ctx.step("same", () => {
            secondRan = true;
            return 2;
          });
        } catch {
          // swallowing a definition error must not let the execution complete
        }
        return "finished";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "dupe", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.match(done.error?.message ?? "", /"same" is used twice/);
      assert.equal(secondRan, false);
    } finally {
      await h.close();
    }
  });

  test("oversized data is refused at scheduling; an oversized result fails its step", async () => {
    const task = defineTask({ name: "big", run: (ctx) => ctx.step("blob", () => "x".repeat(5000)) });
    const h = await createTestEngine({ tasks: [task], maxPayloadBytes: 1000 });
    try {
      await assert.rejects(h.engine.schedule({ task: "big", data: { s: "y".repeat(2000) } }), { code: "payload_too_large" });
      assert.equal((await h.engine.list({ limit: 10, offset: 0, order: "asc" })).total, 0, "nothing stored");
      const { execution } = await h.engine.schedule({ task: "big", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.match(done.error?.message ?? "", /over the 1000-byte limit/);
    } finally {
      await h.close();
    }
  });

  test("unknown tasks, bad data and schema failures are refused with stable codes", async () => {
    const task = defineTask({
      name: "typed",
      input: { type: "object", properties: { email: { type: "string" } }, required: ["email"] },
      run: () => "ok",
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      await assert.rejects(h.engine.schedule({ task: "nope", data: {} }), { code: "task_not_registered" });
      await assert.rejects(h.engine.schedule({ task: "typed", data: [] as unknown as object }), { code: "invalid_data" });
      await assert.rejects(h.engine.schedule({ task: "typed", data: {} }), { code: "invalid_data", message: /data\.email/ });
      await assert.rejects(h.engine.schedule({ task: "typed", data: { email: 5 } }), { code: "invalid_data", message: /data\.email/ });
      const ok = await h.engine.schedule({ task: "typed", data: { email: "a@b.c" } });
      assert.equal(ok.created, true);
    } finally {
      await h.close();
    }
  });
});
