/**
 * Retention (`pruneExecutions`, docs/retention.md): what a prune round deletes and what it keeps, exact
 * counts afterwards, free idempotency keys, batches, families (parents and children), and one round at a
 * time per store. The harness's `leftovers` looks in every table for rows of the pruned executions.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AttemptRecord } from "../../src/core/types.js";
import type { PruneOutcome, PruneRequest, Store } from "../../src/store/store.js";
import { deferred } from "./deferred.js";
import {
  applyOne,
  checkpoint,
  create,
  createRunning,
  createWaitingForEvent,
  newId,
  type SuiteContext,
  stepRecord,
  T0,
} from "./store-fixtures.js";

const CUTOFF = T0 + 1000;

/** A round with batches of `batchSize` that records each batch's count and always goes on. */
function round(store: Store, over: Partial<PruneRequest> = {}): Promise<PruneOutcome> & { batches: number[] } {
  const batches: number[] = [];
  const outcome = store.pruneExecutions({
    completedBefore: CUTOFF,
    batchSize: 500,
    holder: "pruner-1",
    now: () => CUTOFF,
    afterBatch: async (deleted) => {
      batches.push(deleted);
      return true;
    },
    ...over,
  });
  return Object.assign(outcome, { batches });
}

/** An execution of `task` run to `completed` at `at`, with two step records and a failed attempt. */
async function completedAt(store: Store, task: string, at: number, key: string | null = null): Promise<string> {
  const { execution, fence } = await createRunning(store, { task, key, now: at - 10 });
  const id = execution.id;
  const attempts: AttemptRecord[] = [
    {
      executionId: id,
      step: "a",
      attempt: 1,
      executionAttempt: 1,
      startedAt: at - 9,
      endedAt: at - 8,
      error: { message: "flake", step: "a" },
    },
  ];
  const steps = [stepRecord(id, "a", { seq: 1, attempts: 2 }), stepRecord(id, "b", { seq: 2 })];
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  const done = checkpoint(fence, { transition: "complete", outputJson: "1", stepsCompleted: 2 }, { steps, attempts, now: at, owner });
  assert.equal(await applyOne(store, done), true);
  return id;
}

async function failedAt(store: Store, task: string, at: number): Promise<string> {
  const { execution, fence } = await createRunning(store, { task, now: at - 10 });
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  assert.equal(
    await applyOne(store, checkpoint(fence, { transition: "fail", error: { message: "no", step: null } }, { now: at, owner })),
    true,
  );
  return execution.id;
}

async function cancelledAt(store: Store, task: string, at: number): Promise<string> {
  const execution = await create(store, { task, now: at - 10 });
  assert.equal((await store.cancelExecution(execution.id, at)).outcome, "cancelled");
  return execution.id;
}

async function exists(store: Store, id: string): Promise<boolean> {
  return (await store.getExecution(id)) !== null;
}

export function retentionBehaviour(ctx: SuiteContext): void {
  test("pruneExecutions: deletes what ended before the cutoff with every row of it; keeps the rest untouched", async () => {
    const task = `ret-${newId()}`;
    await ctx.store.registerTasks("w", [{ name: task, inputSchemaJson: null, options: { bufferedEvents: true } }], T0);
    const completed = await completedAt(ctx.store, task, T0 + 100);
    const failed = await failedAt(ctx.store, task, T0 + 200);
    // A buffered event is left behind by the cancellation (events are only deleted when a wait takes them).
    const cancelled = await create(ctx.store, { task, now: T0 + 290 });
    assert.equal(
      (await ctx.store.deliverEvent({ executionId: cancelled.id, eventName: "e", payloadJson: "1", now: T0 + 295 })).outcome,
      "buffered",
    );
    assert.equal((await ctx.store.cancelExecution(cancelled.id, T0 + 300)).outcome, "cancelled");
    const recent = await completedAt(ctx.store, task, CUTOFF + 1);
    const atCutoff = await completedAt(ctx.store, task, CUTOFF);
    // Created long before the cutoff, ended after it: kept.
    const longRun = await completedAt(ctx.store, task, CUTOFF + 50);
    const pending = await create(ctx.store, { task, now: T0 });
    const running = (await createRunning(ctx.store, { task: `${task}-r`, now: T0 })).execution;
    const waiting = await createWaitingForEvent(ctx.store, "go", { task: `${task}-w`, now: T0 });
    const kept = [recent, atCutoff, longRun, pending.id, running.id, waiting.id];
    const before = new Map<string, unknown>();
    for (const id of kept) before.set(id, [await ctx.store.getExecution(id), await ctx.store.getStepDetail(id)]);

    const outcome = await round(ctx.store);
    assert.deepEqual(outcome, { ran: true, pruned: 3 });
    for (const id of [completed, failed, cancelled.id]) {
      assert.equal(await exists(ctx.store, id), false, `${id} is pruned`);
      assert.deepEqual(await ctx.store.getStepDetail(id), { steps: [], attempts: [] });
    }
    assert.deepEqual(await ctx.leftovers([completed, failed, cancelled.id]), [], "no row of a pruned execution is left");
    for (const id of kept) {
      assert.deepEqual([await ctx.store.getExecution(id), await ctx.store.getStepDetail(id)], before.get(id), `${id} is untouched`);
    }
    assert.deepEqual(await round(ctx.store), { ran: true, pruned: 0 }, "a second round finds nothing");
  });

  test("pruneExecutions: counts and list totals stay exact; idempotency keys of pruned executions are free again", async () => {
    const task = `cnt-${newId()}`;
    const old = await completedAt(ctx.store, task, T0 + 10, `key-${task}`);
    await failedAt(ctx.store, task, T0 + 20);
    await cancelledAt(ctx.store, task, T0 + 30);
    await completedAt(ctx.store, task, CUTOFF + 10, `kept-${task}`);
    await create(ctx.store, { task });
    const countsBefore = await ctx.store.countByStatus();
    assert.equal((await round(ctx.store)).ran, true);
    const counts = await ctx.store.countByStatus();
    assert.deepEqual(counts, {
      ...countsBefore,
      completed: countsBefore.completed - 1,
      failed: countsBefore.failed - 1,
      cancelled: countsBefore.cancelled - 1,
    });
    const list = async (status?: "completed" | "failed" | "cancelled" | "pending") =>
      (await ctx.store.listExecutions({ task, status, limit: 50, offset: 0, order: "asc" })).total;
    assert.deepEqual(
      [await list(), await list("completed"), await list("failed"), await list("cancelled"), await list("pending")],
      [2, 1, 0, 0, 1],
    );
    assert.deepEqual((await ctx.store.listTasks(CUTOFF)).find((t) => t.name === task)?.counts, {
      pending: 1,
      running: 0,
      waiting: 0,
      completed: 1,
      failed: 0,
      cancelled: 0,
    });

    const again = await ctx.store.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: `key-${task}`, now: CUTOFF });
    assert.equal(again.created, true, "the pruned execution's key is free");
    assert.notEqual(again.execution.id, old);
    const held = await ctx.store.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: `kept-${task}`, now: CUTOFF });
    assert.equal(held.created, false, "a kept execution still holds its key");
  });

  test("pruneExecutions: batches of batchSize with afterBatch between them; false ends the round early", async () => {
    const task = `bat-${newId()}`;
    for (let i = 0; i < 5; i++) await completedAt(ctx.store, task, T0 + 10 + i);
    for (let i = 0; i < 2; i++) await cancelledAt(ctx.store, task, T0 + 20 + i);
    const first = round(ctx.store, { batchSize: 2 });
    assert.deepEqual(await first, { ran: true, pruned: 7 });
    assert.deepEqual(first.batches, [2, 2, 1, 2], "completed in three batches, then cancelled in one");

    for (let i = 0; i < 5; i++) await completedAt(ctx.store, task, T0 + 30 + i);
    const stopped: number[] = [];
    const early = await round(ctx.store, {
      batchSize: 2,
      afterBatch: async (deleted) => {
        stopped.push(deleted);
        return false;
      },
    });
    assert.deepEqual([early, stopped], [{ ran: true, pruned: 2 }, [2]]);
    assert.equal((await ctx.store.listExecutions({ task, limit: 50, offset: 0, order: "asc" })).total, 3);
  });

  test("pruneExecutions: an execution is kept while its parent or a child has not finished", async () => {
    const task = `fam-${newId()}`;
    // A finished parent whose child still runs, and a finished child whose parent still waits.
    const parent = await completedAt(ctx.store, task, T0 + 10);
    const child = await ctx.store.createExecution({
      id: newId(),
      task,
      dataJson: "{}",
      idempotencyKey: null,
      now: T0,
      parent: { id: parent, step: "kid", cancelWithParent: false },
    });
    const waitingParent = await createWaitingForEvent(ctx.store, "go", { task: `${task}-w`, now: T0 });
    const doneChild = await ctx.store.createExecution({
      id: newId(),
      task,
      dataJson: "{}",
      idempotencyKey: null,
      now: T0,
      parent: { id: waitingParent.id, step: "kid", cancelWithParent: false },
    });
    assert.equal((await ctx.store.cancelExecution(doneChild.execution.id, T0 + 20)).outcome, "cancelled");
    assert.deepEqual(await round(ctx.store), { ran: true, pruned: 0 });
    assert.equal(await exists(ctx.store, parent), true, "the parent of a pending child is kept");
    assert.equal(await exists(ctx.store, doneChild.execution.id), true, "the child of a waiting parent is kept");

    // Once the child has ended too, long ago: both go. A child that ended after the cutoff stays, with its parent's id.
    assert.equal((await ctx.store.cancelExecution(child.execution.id, T0 + 30)).outcome, "cancelled");
    const lateChild = await ctx.store.createExecution({
      id: newId(),
      task,
      dataJson: "{}",
      idempotencyKey: null,
      now: T0,
      parent: { id: parent, step: "kid-2", cancelWithParent: false },
    });
    assert.equal((await ctx.store.cancelExecution(lateChild.execution.id, CUTOFF + 5)).outcome, "cancelled");
    assert.deepEqual(await round(ctx.store), { ran: true, pruned: 2 });
    assert.equal(await exists(ctx.store, parent), false);
    assert.equal(await exists(ctx.store, child.execution.id), false);
    assert.equal((await ctx.store.getExecution(lateChild.execution.id))?.parentId, parent, "a kept child keeps its parent's id");
    assert.equal(await exists(ctx.store, doneChild.execution.id), true, "its parent still waits");
  });

  test("pruneExecutions: one round at a time per store; the next may start once it has ended", async () => {
    const task = `one-${newId()}`;
    for (let i = 0; i < 3; i++) await completedAt(ctx.store, task, T0 + 10 + i);
    const peer = await ctx.peer();
    const inBatch = deferred();
    const goOn = deferred<boolean>();
    const first = round(ctx.store, {
      batchSize: 1,
      afterBatch: async () => {
        inBatch.resolve();
        return goOn.promise;
      },
    });
    await inBatch.promise;
    assert.deepEqual(await round(peer, { holder: "pruner-2" }), { ran: false }, "another instance's round while the first runs");
    assert.deepEqual(await round(ctx.store, { holder: "pruner-2" }), { ran: false }, "another holder on the same instance");
    goOn.resolve(true);
    assert.deepEqual(await first, { ran: true, pruned: 3 });
    await completedAt(ctx.store, task, T0 + 20);
    assert.deepEqual(await round(peer, { holder: "pruner-2" }), { ran: true, pruned: 1 }, "free again once the round ended");
  });
}
