/**
 * A concurrency group's queue (docs/concurrency.md, "in order"): executions that want a slot start in
 * priority, then creation order, also when a younger row of the group that no claim has reached yet is due
 * beside an older one that waited.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Store } from "../../src/store/store.js";
import { applyOne, checkpoint, LEASE_MS, newId, rowOf, type SuiteContext, T0 } from "./store-fixtures.js";

async function make(store: Store, task: string, at: number, concurrency: { key: string; limit: number }): Promise<string> {
  const id = newId();
  await store.createExecution({ id, task, dataJson: "{}", idempotencyKey: null, now: at, concurrency });
  return id;
}

async function claimIds(store: Store, task: string, now: number, limit = 5): Promise<string[]> {
  const result = await store.claim({ workerId: `w-${now}`, tasks: [task], limit, now, leaseMs: LEASE_MS });
  return result.claimed.map((c) => c.execution.id);
}

/** Completes the running execution `id` of `task` in the group at `now`, which frees its slot. */
async function complete(store: Store, task: string, id: string, group: { key: string; limit: number }, now: number): Promise<void> {
  const row = await rowOf(store, id);
  const fence = { executionId: id, leaseToken: row.lease_token };
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: group.key, concurrencyLimit: group.limit };
  assert.equal(await applyOne(store, checkpoint(fence, { transition: "complete", outputJson: "1" }, { now, owner })), true);
}

/** A new task whose group runs one row, `a`, created at T0 and claimed at T0 + 1. */
async function oneRunning(store: Store, group: { key: string; limit: number }): Promise<{ task: string; a: string }> {
  const task = `order-${newId()}`;
  const a = await make(store, task, T0, group);
  assert.deepEqual(await claimIds(store, task, T0 + 1), [a]);
  return { task, a };
}

/** A deploy raised the group's limit: rows created before it carry 1, rows created after carry 2. */
const BEFORE_DEPLOY = { key: "acme", limit: 1 };
const AFTER_DEPLOY = { key: "acme", limit: 2 };

/** `a` (limit 1) runs, `b` (limit 1) waits for a slot, `c` (limit 2, created after b) has queued behind b. */
async function deployRaisedLimit(store: Store) {
  const { task, a } = await oneRunning(store, BEFORE_DEPLOY);
  const b = await make(store, task, T0 + 2, BEFORE_DEPLOY);
  assert.deepEqual(await claimIds(store, task, T0 + 3), [], "b waits: its limit of 1 is taken");
  const c = await make(store, task, T0 + 4, AFTER_DEPLOY);
  assert.deepEqual(await claimIds(store, task, T0 + 5), [], "c does not pass b, which waited first");
  return { task, a, b, c };
}

export function queueOrderBehaviour(ctx: SuiteContext): void {
  test("a freed slot goes to the row that waited for it, not to a younger row of the group due since its creation", async () => {
    const group = { key: "acme", limit: 1 };
    const { task, a } = await oneRunning(ctx.store, group);
    const b = await make(ctx.store, task, T0 + 2, group);
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 3), [], "the group is full: b waits for a slot");
    // c is created while every worker is busy: no claim reaches it before a's slot frees.
    const c = await make(ctx.store, task, T0 + 4, group);
    await complete(ctx.store, task, a, group, T0 + 5);
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 6), [b], "b, created before c, takes the slot");
    const row = await rowOf(ctx.store, c);
    assert.deepEqual([row.status, row.runnable_at], ["pending", null], "c waits behind b");
  });

  test("a row that wants a slot queues behind an older one waiting for it, even when its own limit has room", async () => {
    const { task, a, b, c } = await deployRaisedLimit(ctx.store);
    const waiting = await rowOf(ctx.store, c);
    assert.deepEqual([waiting.status, waiting.runnable_at], ["pending", null]);
    await complete(ctx.store, task, a, BEFORE_DEPLOY, T0 + 6);
    // In claim order b first (its limit of 1 is free now), then c beside it (its own limit is 2).
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 7), [b, c]);
  });

  test("a row that queued behind one parked again starts beside it once that one runs, as its own limit allows", async () => {
    const { task, a, b, c } = await deployRaisedLimit(ctx.store);
    // b was handed the free slot of c's limit, but a claim reaches it while a runs: its own limit parks it again.
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 6), []);
    await complete(ctx.store, task, a, BEFORE_DEPLOY, T0 + 7);
    const claimed = [...(await claimIds(ctx.store, task, T0 + 8)), ...(await claimIds(ctx.store, task, T0 + 9))];
    assert.deepEqual(claimed, [b, c], "c, with a limit of 2, is not left waiting once b runs");
  });

  test("a granted row cancelled before a claim reached it hands its slot to the next waiting row", async () => {
    const group = { key: "k", limit: 1 };
    const { task, a } = await oneRunning(ctx.store, group);
    const b = await make(ctx.store, task, T0 + 2, group);
    const c = await make(ctx.store, task, T0 + 3, group);
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 4), [], "b and c wait");
    await complete(ctx.store, task, a, group, T0 + 5);
    assert.notEqual((await rowOf(ctx.store, b)).runnable_at, null, "b was granted the slot");
    assert.equal((await ctx.store.cancelExecution(b, T0 + 6)).outcome, "cancelled");
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 7), [c], "c takes the slot b never took");
  });

  test("a freed slot goes to the waiting row when its own limit has room, whatever the limit of the row that freed it", async () => {
    const one = { key: "acme", limit: 1 };
    const two = { key: "acme", limit: 2 };
    const { task, a } = await oneRunning(ctx.store, one);
    const x = await make(ctx.store, task, T0 + 2, two);
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 3), [x], "x's limit of 2 has room beside a");
    const h = await make(ctx.store, task, T0 + 4, two);
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 5), [], "h waits: two run");
    await complete(ctx.store, task, a, one, T0 + 6);
    assert.deepEqual(await claimIds(ctx.store, task, T0 + 7), [h], "one runs, h's limit is 2: h starts");
  });
}
