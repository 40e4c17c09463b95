/**
 * When a step's record commits: before the next step's function starts, and, for the step that ends a
 * workflow, in the same write as the completion (see the header of src/worker/execution-context.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Checkpoint, Store } from "../src/store/store.js";

/** A few event-loop turns: long enough for a step that did not wait for its predecessor's write to start. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A real SQLite store whose checkpoint writes take a few event-loop turns and are logged once committed. */
async function slowStore(dir: string): Promise<{ store: Store; committed: Checkpoint[] }> {
  const store = await openStore(join(dir, "zart.db"));
  const committed: Checkpoint[] = [];
  const apply = store.applyCheckpoints.bind(store);
  store.applyCheckpoints = async (batch) => {
    await turns(5);
    const results = await apply(batch);
    batch.forEach((checkpoint, i) => {
      if (results[i]) committed.push(checkpoint);
    });
    return results;
  };
  // Claims folded into a flush take the same path (the worker folds only when it knows of queued work).
  store.applyAndClaim = async (batch, request) => ({ results: await store.applyCheckpoints(batch), claim: await store.claim(request) });
  return { store, committed };
}

/** The status a checkpoint's transition leaves its (running) execution in, when nothing else arrived. */
const statusOf = (c: Checkpoint) =>
  ({ progress: "running", park: "waiting", release: "pending", retry: "pending", complete: "completed", fail: "failed" })[
    c.patch.transition
  ];

const committedSteps = (committed: Checkpoint[]) => committed.flatMap((c) => (c.steps ?? []).map((s) => s.name));

test("each step starts only once the step before it is recorded; the last step commits with the completion", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-records-"));
  const { store, committed } = await slowStore(dir);
  /** For each step: the step records committed when its function started. */
  const seenAtStart: Record<string, string[]> = {};
  const task = defineTask({
    name: "chain",
    async run(ctx, data: { i: number }) {
      const step = (name: string, value: number) =>
        ctx.step(name, () => {
          seenAtStart[name] = committedSteps(committed);
          return value;
        });
      const a = await step("a", data.i + 1);
      const b = await step("b", a * 2);
      const c = await step("c", b - 1);
      return c;
    },
  });
  let engine: Engine | null = null;
  try {
    engine = await Engine.start({ store, tasks: [task], clock: new ManualClock() });
    const { execution } = await engine.schedule({ task: "chain", data: { i: 1 } });
    const done = await engine.waitForTerminal(execution.id, 1e9);
    assert.equal(done.status, "completed");
    assert.equal(JSON.parse(done.outputJson ?? "null"), 3);
    assert.deepEqual(seenAtStart, { a: [], b: ["a"], c: ["a", "b"] });
    // Three writes carry step records: a, b, and c together with the completion.
    const withSteps = committed.filter((c) => (c.steps ?? []).length > 0);
    assert.deepEqual(
      withSteps.map((c) => [statusOf(c), (c.steps ?? []).map((s) => s.name)]),
      [
        ["running", ["a"]],
        ["running", ["b"]],
        ["completed", ["c"]],
      ],
    );
    const detail = await engine.stepDetail(execution.id);
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.state, s.resultJson]),
      [
        ["a", "completed", "2"],
        ["b", "completed", "4"],
        ["c", "completed", "3"],
      ],
    );
    assert.equal(done.stepsCompleted, 3);
  } finally {
    await engine?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a step record is written at the end of its turn when the workflow then waits on something else", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-records-"));
  const { store, committed } = await slowStore(dir);
  let release: () => void = () => {};
  const outside = new Promise<void>((resolve) => {
    release = resolve;
  });
  let recordedWhileWaiting: string[] = [];
  const task = defineTask({
    name: "waits-outside",
    async run(ctx) {
      const a = await ctx.step("a", () => 1);
      await outside; // not a ctx call: the record of "a" must not wait for the workflow's next write
      return a;
    },
  });
  let engine: Engine | null = null;
  try {
    engine = await Engine.start({ store, tasks: [task], clock: new ManualClock() });
    const { execution } = await engine.schedule({ task: "waits-outside", data: {} });
    // The record commits although the workflow writes nothing more until released.
    for (let i = 0; i < 1000 && !committedSteps(committed).includes("a"); i++) await turns(1);
    recordedWhileWaiting = committedSteps(committed);
    release();
    const done = await engine.waitForTerminal(execution.id, 1e9);
    assert.equal(done.status, "completed");
    assert.deepEqual(recordedWhileWaiting, ["a"]);
    // (Progress writes, which name the step about to run, are left out.)
    assert.deepEqual(
      committed.filter((c) => (c.steps ?? []).length > 0 || statusOf(c) !== "running").map((c) => [statusOf(c), c.steps?.length ?? 0]),
      [
        ["running", 1],
        ["completed", 0],
      ],
      "the record went alone, the completion after it",
    );
  } finally {
    release();
    await engine?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a step whose record is fenced out (cancelled meanwhile) stops the run: the next step never starts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-records-"));
  const store = await openStore(join(dir, "zart.db"));
  const apply = store.applyCheckpoints.bind(store);
  let engine: Engine | null = null;
  let cancelled: Promise<unknown> = Promise.resolve();
  // The first write that carries step "a" waits until the execution is cancelled, then goes on (fenced out).
  store.applyCheckpoints = async (batch) => {
    const first = batch.find((c) => (c.steps ?? []).some((s) => s.name === "a"));
    if (first && engine) {
      cancelled = engine.cancel(first.fence.executionId);
      await cancelled;
    }
    return apply(batch);
  };
  store.applyAndClaim = async (batch, request) => ({ results: await store.applyCheckpoints(batch), claim: await store.claim(request) });
  let bRan = false;
  let signal: AbortSignal | null = null;
  const task = defineTask({
    name: "cancelled-between",
    async run(ctx) {
      signal = ctx.signal;
      await ctx.step("a", () => 1);
      await ctx.step("b", () => {
        bRan = true;
      });
    },
  });
  try {
    engine = await Engine.start({ store, tasks: [task], clock: new ManualClock() });
    const { execution } = await engine.schedule({ task: "cancelled-between", data: {} });
    const done = await engine.waitForTerminal(execution.id, 1e9);
    await cancelled;
    assert.equal(done.status, "cancelled");
    await turns(5);
    assert.equal(bRan, false);
    assert.equal((signal as AbortSignal | null)?.aborted, true);
    const detail = await engine.stepDetail(execution.id);
    assert.deepEqual(detail.steps, [], "nothing of the cancelled run was recorded");
  } finally {
    await engine?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
