/**
 * Eager resume of a run this process parked (src/worker/held-write.ts): the resumed run starts from the
 * steps it parked with, before the delivery is written, and a run that then ends goes in the delivery's
 * transaction; when the stored execution changed meanwhile, the run comes from the stored steps instead.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";
import { recordWrites } from "./support/write-log.js";

const LONG = 1e9;

function approvalTask(after: ((executionId: string) => Promise<unknown>) | null = null) {
  return defineTask({
    name: "approval",
    async run(ctx, data: { i: number }) {
      const a = await ctx.step("a", () => data.i);
      const payload = await ctx.waitForEvent<number>("go");
      if (after) await ctx.step("after", () => after(ctx.executionId));
      return a + payload;
    },
  });
}

test("an event for a run parked here: the resumed run ends in the delivery's own write", async () => {
  const h = await createTestEngine({ tasks: [approvalTask()] });
  try {
    const { execution } = await h.engine.schedule({ task: "approval", data: { i: 5 } });
    await h.outcome(execution.id, "parked");
    const writes = recordWrites(h.store);
    await h.engine.deliverEvent(execution.id, "go", "10");
    const done = await h.engine.waitForTerminal(execution.id, LONG);
    assert.deepEqual([done.status, done.outputJson, done.stepsCompleted], ["completed", "15", 2]);
    assert.deepEqual(writes, ["deliver delivered completed"], "one write: delivery, claim and completion");
    assert.deepEqual(done, await h.store.getExecution(execution.id), "the remembered record is exactly the stored one");
    const detail = await h.store.getStepDetail(execution.id);
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.state, s.resultJson]),
      [
        ["a", "completed", "5"],
        ["go", "completed", "10"],
      ],
    );
  } finally {
    await h.close();
  }
});

test("a resumed run that takes a step: the step starts only once the delivery is stored", async () => {
  const seen: Array<[string | undefined, string | null | undefined]> = [];
  const h = await createTestEngine({
    tasks: [
      approvalTask(async (id) => {
        const row = await h.store.getExecution(id);
        const go = (await h.store.getStepDetail(id)).steps.find((s) => s.name === "go");
        seen.push([row?.status, go?.resultJson]);
      }),
    ],
  });
  try {
    const { execution } = await h.engine.schedule({ task: "approval", data: { i: 1 } });
    await h.outcome(execution.id, "parked");
    const writes = recordWrites(h.store);
    await h.engine.deliverEvent(execution.id, "go", "2");
    const done = await h.engine.waitForTerminal(execution.id, LONG);
    assert.deepEqual([done.status, done.outputJson], ["completed", "3"]);
    assert.deepEqual(seen, [["running", "2"]], "the step saw the delivered event stored");
    assert.deepEqual(writes, ["deliver delivered", "checkpoint completed +after"]);
    assert.deepEqual(done, await h.store.getExecution(execution.id));
  } finally {
    await h.close();
  }
});

test("parked here but changed since (claimed elsewhere): the run resumes from the stored steps, not the remembered ones", async () => {
  const h = await createTestEngine({ tasks: [approvalTask()] });
  try {
    const { execution } = await h.engine.schedule({ task: "approval", data: { i: 5 } });
    await h.outcome(execution.id, "parked");
    // What another worker's claim and park would leave: a newer token, and here a different step result.
    const db = new Database(h.path);
    db.prepare("UPDATE executions SET lease_token = lease_token + 2 WHERE id = ?").run(execution.id);
    db.prepare("UPDATE steps SET result = '100' WHERE execution_id = ? AND name = 'a'").run(execution.id);
    db.close();
    const writes = recordWrites(h.store);
    await h.engine.deliverEvent(execution.id, "go", "10");
    const done = await h.engine.waitForTerminal(execution.id, LONG);
    assert.deepEqual([done.status, done.outputJson], ["completed", "110"], "computed from the stored step");
    assert.deepEqual(writes, ["deliver delivered", "checkpoint completed"]);
    assert.deepEqual(done, await h.store.getExecution(execution.id));
    assert.equal(done.leaseToken, 4);
  } finally {
    await h.close();
  }
});

test("a parked run with large step results is not remembered: its event resumes it the usual way", async () => {
  const task = defineTask({
    name: "bulky",
    async run(ctx) {
      const big = await ctx.step("big", () => "x".repeat(70_000));
      const payload = await ctx.waitForEvent<number>("go");
      return big.length + payload;
    },
  });
  const h = await createTestEngine({ tasks: [task] });
  try {
    const { execution } = await h.engine.schedule({ task: "bulky", data: {} });
    await h.outcome(execution.id, "parked");
    const writes = recordWrites(h.store);
    await h.engine.deliverEvent(execution.id, "go", "1");
    const done = await h.engine.waitForTerminal(execution.id, LONG);
    assert.deepEqual([done.status, done.outputJson], ["completed", "70001"]);
    assert.deepEqual(writes, ["deliver delivered", "checkpoint completed"]);
  } finally {
    await h.close();
  }
});

test("a stale resume hands over to a run of the stored state, which the worker then tracks (lease, slot, waits)", async () => {
  const gate = deferred();
  const h = await createTestEngine({ tasks: [approvalTask(() => gate.promise)] });
  try {
    const { execution } = await h.engine.schedule({ task: "approval", data: { i: 5 } });
    await h.outcome(execution.id, "parked");
    const db = new Database(h.path);
    db.prepare("UPDATE executions SET lease_token = lease_token + 2 WHERE id = ?").run(execution.id);
    db.close();
    const delivering = h.engine.deliverEvent(execution.id, "go", "10");
    // The early run starts inside the call, before the delivery is written.
    const early = h.engine.worker?.runOf(execution.id) ?? null;
    assert.notEqual(early, null);
    await delivering;
    await early;
    assert.equal(h.log.outcomes.find((o) => o.executionId === execution.id && o.outcome === "aborted")?.outcome, "aborted");
    // The early run was dropped; the run of the stored state waits in its step and is the one tracked.
    assert.notEqual(h.engine.worker?.runOf(execution.id) ?? null, null, "the replacing run is tracked");
    gate.resolve();
    const done = await h.engine.waitForTerminal(execution.id, LONG);
    assert.deepEqual([done.status, done.outputJson, done.leaseToken], ["completed", "15", 4]);
  } finally {
    gate.resolve();
    await h.close();
  }
});

test("an event buffered while a resume's delivery is held: the run takes it instead of parking on it", async () => {
  const twoWaits = defineTask({
    name: "two-waits",
    events: "buffered",
    async run(ctx) {
      const first = await ctx.waitForEvent<number>("e-0");
      const second = await ctx.waitForEvent<number>("e-1");
      return first + second;
    },
  });
  const h = await createTestEngine({ tasks: [twoWaits] });
  try {
    const { execution } = await h.engine.schedule({ task: "two-waits", data: {} });
    await h.outcome(execution.id, "parked");
    // e-1 reaches the store while e-0's delivery is still held for the resumed run: stored as buffered.
    const answers = await Promise.all([h.engine.deliverEvent(execution.id, "e-0", "1"), h.engine.deliverEvent(execution.id, "e-1", "2")]);
    assert.deepEqual(answers, ["delivered", "buffered"]);
    const end = await Promise.race([
      h.engine.waitForTerminal(execution.id, LONG),
      h.outcome(execution.id, "parked", 2).then(() => "parked on e-1 with e-1 buffered"),
    ]);
    assert.equal(typeof end === "string" ? end : end.outputJson, "3");
  } finally {
    await h.close();
  }
});

test("a resumed run that ends in the delivery's write is done, though an event was buffered meanwhile", async () => {
  const oneWait = defineTask({
    name: "one-wait",
    events: "buffered",
    run: (ctx) => ctx.waitForEvent<number>("e-0"),
  });
  const h = await createTestEngine({ tasks: [oneWait] });
  try {
    const { execution } = await h.engine.schedule({ task: "one-wait", data: {} });
    await h.outcome(execution.id, "parked");
    const answers = await Promise.all([h.engine.deliverEvent(execution.id, "e-0", "1"), h.engine.deliverEvent(execution.id, "e-1", "2")]);
    assert.deepEqual(answers, ["delivered", "buffered"]);
    const done = await h.engine.waitForTerminal(execution.id, LONG);
    assert.deepEqual([done.status, done.outputJson, done.bufferedEvents], ["completed", "1", 1], "e-1 stays stored, and counted");
    assert.deepEqual(done, await h.store.getExecution(execution.id), "the answer is the stored record");
    await h.engine.worker?.runOf(execution.id);
    assert.deepEqual(
      h.log.outcomes.filter((o) => o.executionId === execution.id).map((o) => o.outcome),
      ["parked", "completed"],
      "ran once after the delivery",
    );
  } finally {
    await h.close();
  }
});
