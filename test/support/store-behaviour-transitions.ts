/**
 * Every transition of the state machine (src/state/transitions.ts), applied through the store's own API,
 * leaves exactly the row the pure definition computes (`applyTransition` on the row as it was). Each case
 * reads the row before and after and compares every column. Together with the other suites this proves
 * the SQL each store generates from a transition means what the definition says.
 *
 * Long because it holds one case per transition, each run on both stores.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ExecutionRecord } from "../../src/core/types.js";
import { applyTransition } from "../../src/state/apply.js";
import type { ExecutionRow } from "../../src/state/columns.js";
import { COMPOSITES } from "../../src/state/composites.js";
import type { Params } from "../../src/state/expr.js";
import { TRANSITIONS, type Transition } from "../../src/state/transitions.js";
import { toRow } from "../../src/store/row-mapping.js";
import type { Checkpoint, NewExecution, Store } from "../../src/store/store.js";
import { checkpointParams, creationParams, creationTransition, workerTransition } from "../../src/store/writes.js";
import {
  applyOne,
  checkpoint,
  claimRows,
  create,
  createRunning,
  createWaitingForEvent,
  eventWait,
  LEASE_MS,
  NoticeRecorder,
  newId,
  rowOf,
  type SuiteContext,
  stepRecord,
  T0,
} from "./store-fixtures.js";

/** The stored row equals the pure transition applied to `before`. */
function assertApplied(after: ExecutionRow, before: ExecutionRow | null, transition: Transition, params: Params): void {
  assert.deepEqual(after, applyTransition(before, transition, params), `${transition.name}: the stored row is the definition's`);
}

/** A checkpoint on a running row: the row after it is the worker transition's. */
async function checkpointCase(store: Store, make: (fence: Checkpoint["fence"], execution: ExecutionRecord) => Checkpoint): Promise<void> {
  const { execution, fence } = await createRunning(store, { task: `t-${newId()}` });
  const before = await rowOf(store, execution.id);
  const cp = make(fence, execution);
  assert.equal(await applyOne(store, cp), true);
  assertApplied(await rowOf(store, execution.id), before, workerTransition(cp.patch), checkpointParams(cp));
}

export function transitionBehaviour(ctx: SuiteContext): void {
  test("create, create_claimed, create_completed, create_failed: a new row is the definition's", async () => {
    const base = { task: "born", dataJson: '{"a":1}', now: T0 + 3 };
    const inputs: NewExecution[] = [
      { ...base, id: newId(), idempotencyKey: "k-plain", priority: 5, startAt: T0 + 100, concurrency: { key: "c", limit: 2 } },
      { ...base, id: newId(), idempotencyKey: null, claimFor: { workerId: "w", leaseMs: LEASE_MS } },
      {
        ...base,
        id: newId(),
        idempotencyKey: null,
        claimFor: { workerId: "w", leaseMs: LEASE_MS },
        finished: { transition: "complete", outputJson: '"done"', at: T0 + 9, stepsCompleted: 0 },
      },
      {
        ...base,
        id: newId(),
        idempotencyKey: null,
        claimFor: { workerId: "w", leaseMs: LEASE_MS },
        finished: { transition: "fail", error: { message: "x", step: null }, at: T0 + 9, stepsCompleted: 2 },
      },
    ];
    for (const input of inputs) {
      const { created, execution } = await ctx.store.createExecution(input);
      assert.equal(created, true);
      const stored = await rowOf(ctx.store, input.id);
      assertApplied(stored, null, creationTransition(input), creationParams(input));
      assert.deepEqual(toRow(execution), stored, "the returned row is the stored row");
    }
  });

  test("create, create_claimed, create_completed, create_failed made together: each row is the definition's", async () => {
    // Made in one turn, so the stores' shared inserts carry them together (on PostgreSQL, one statement
    // per creation transition: docs/decisions/046-shared-eager-inserts.md).
    const base = { task: "born-together", dataJson: '{"a":2}', now: T0 + 3, idempotencyKey: null };
    const claimFor = { workerId: "w", leaseMs: LEASE_MS };
    const held = `k-held-${newId()}`;
    await ctx.store.createExecution({ ...base, id: newId(), idempotencyKey: held });
    const kinds: Omit<NewExecution, "id">[] = [
      base,
      { ...base, priority: 2, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      { ...base, claimFor },
      { ...base, claimFor, idempotencyKey: `k-${newId()}` },
      { ...base, claimFor, finished: { transition: "complete", outputJson: '"done"', at: T0 + 9, stepsCompleted: 0 } },
      { ...base, claimFor, finished: { transition: "complete", outputJson: "null", at: T0 + 8, stepsCompleted: 1 } },
      { ...base, claimFor, finished: { transition: "fail", error: { message: "x", step: null }, at: T0 + 9, stepsCompleted: 2 } },
      { ...base, claimFor, finished: { transition: "fail", error: { message: "y", step: "s" }, at: T0 + 7, stepsCompleted: 0 } },
    ];
    const inputs: NewExecution[] = kinds.map((kind) => ({ ...kind, id: newId() }));
    const clash: NewExecution = { ...base, claimFor, id: newId(), idempotencyKey: held };
    const results = await Promise.all([...inputs, clash].map((input) => ctx.store.createExecution(input)));
    for (const [i, input] of inputs.entries()) {
      assert.equal(results[i]?.created, true);
      const stored = await rowOf(ctx.store, input.id);
      assertApplied(stored, null, creationTransition(input), creationParams(input));
      assert.deepEqual(toRow(results[i]!.execution), stored, "the returned row is the stored row");
    }
    const refused = results[inputs.length];
    assert.equal(refused?.created, false, "a born-claimed row whose key is held is not created");
    assert.equal(refused?.execution.idempotencyKey, held);
    assert.equal(await ctx.store.getExecution(clash.id), null);
  });

  test("create in a batch: each row is the definition's, whichever options the other rows of its batch set", async () => {
    const base = { task: "born-many", dataJson: '{"b":1}', idempotencyKey: null, now: T0 + 4 };
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const queued = [
      { ...base, id: newId() },
      { ...base, id: newId(), priority: -3, traceparent },
      { ...base, id: newId(), idempotencyKey: "k-batch", startAt: T0 + 50, concurrency: { key: "g", limit: 1 } },
      { ...base, id: newId(), dataJson: '"quote \\" and \\\\ back, {braces}, NULL"' },
      // A key that an array literal would read as NULL if it were not quoted.
      { ...base, id: newId(), idempotencyKey: "NULL" },
    ];
    // Alone, then together: a batch in which every row leaves every option unset, one in which only the
    // last option is set, and one in which some rows set options and others do not.
    const fresh = (row: (typeof queued)[number]) => ({
      ...row,
      id: newId(),
      idempotencyKey: row.idempotencyKey && `${row.idempotencyKey}-${newId()}`,
    });
    const traced = { ...queued[0]!, traceparent };
    const batches = [[queued[0]!], [traced], queued.slice(1)].map((rows) => rows.map(fresh));
    for (const batch of [...batches, queued]) {
      const results = await ctx.store.createExecutions(batch);
      for (const [i, input] of batch.entries()) {
        const stored = await rowOf(ctx.store, input.id);
        assertApplied(stored, null, TRANSITIONS.create, creationParams(input));
        assert.deepEqual(toRow(results[i]!.execution), stored, "the returned row is the stored row");
      }
    }
  });

  test("claim: of new work, of an ended sleep, and of an expired lease with a step in flight (a crash)", async () => {
    const fresh = await create(ctx.store, { task: "c-new" });
    const freshBefore = await rowOf(ctx.store, fresh.id);
    const params = { now: T0 + 5, worker: "w-9", lease_ms: 1000 };
    await claimRows(ctx.store, { workerId: "w-9", tasks: ["c-new"], limit: 1, now: T0 + 5, leaseMs: 1000 });
    assertApplied(await rowOf(ctx.store, fresh.id), freshBefore, TRANSITIONS.claim, params);

    const { execution, fence } = await createRunning(ctx.store, { task: "c-crash" });
    await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: "s1" }));
    const crashedBefore = await rowOf(ctx.store, execution.id);
    const later = { now: T0 + LEASE_MS + 1, worker: "w-2", lease_ms: LEASE_MS };
    const [recovered] = await claimRows(ctx.store, { workerId: "w-2", tasks: ["c-crash"], limit: 1, now: later.now, leaseMs: LEASE_MS });
    assert.equal(recovered?.recovered, true);
    const crashedAfter = await rowOf(ctx.store, execution.id);
    assertApplied(crashedAfter, crashedBefore, TRANSITIONS.claim, later);
    assert.equal(crashedAfter.crashes, 1, "a lease that expired during a step counts as a crash");
    assert.equal(crashedAfter.current_step, null, "the claim clears the step in flight: none has begun under its lease");

    // Its new holder dies too, before beginning a step (it was prefetched, or waiting its turn): no crash.
    const again = { now: later.now + LEASE_MS + 1, worker: "w-3", lease_ms: LEASE_MS };
    await claimRows(ctx.store, { workerId: "w-3", tasks: ["c-crash"], limit: 1, now: again.now, leaseMs: LEASE_MS });
    const idleAfter = await rowOf(ctx.store, execution.id);
    assertApplied(idleAfter, crashedAfter, TRANSITIONS.claim, again);
    assert.equal(idleAfter.crashes, 1, "a lease that expired with no step begun under it is no crash");
  });

  test("progress, park, release, retry, complete, fail: a checkpoint leaves the definition's row", async () => {
    await checkpointCase(ctx.store, (fence) =>
      checkpoint(fence, { transition: "progress", currentStep: "s", stepsCompleted: 1 }, { crashes: 2 }),
    );
    await checkpointCase(ctx.store, (fence) =>
      checkpoint(
        fence,
        { transition: "park", currentStep: "nap", waitingForEvent: null, wakeAt: T0 + 500, stepsCompleted: 1 },
        { now: T0 + 2 },
      ),
    );
    await checkpointCase(ctx.store, (fence) => checkpoint(fence, { transition: "release", runAt: T0 + 1 }, { now: T0 + 1 }));
    await checkpointCase(ctx.store, (fence) => checkpoint(fence, { transition: "retry", runAt: T0 + 900, attempt: 2, stepsCompleted: 1 }));
    await checkpointCase(ctx.store, (fence) =>
      checkpoint(fence, { transition: "complete", outputJson: "[1]", stepsCompleted: 3 }, { now: T0 + 7 }),
    );
    await checkpointCase(ctx.store, (fence) =>
      checkpoint(fence, { transition: "fail", error: { message: "no", step: "s", code: "step_failed" }, stepsCompleted: 1 }),
    );
  });

  test("deliver: to a waiting execution, and to a running one with the wait still open (then its park requeues it)", async () => {
    const waiting = await createWaitingForEvent(ctx.store, "go", { task: "d-wait" });
    const before = await rowOf(ctx.store, waiting.id);
    await ctx.store.deliverEvent({ executionId: waiting.id, eventName: "go", payloadJson: "1", now: T0 + 4 });
    assertApplied(await rowOf(ctx.store, waiting.id), before, TRANSITIONS.deliver, { now: T0 + 4 });

    // Parked on two waits, resumed by one; the other stays open while it runs.
    const { execution, fence } = await createRunning(ctx.store, { task: "d-run" });
    const waits = [eventWait(execution.id, "a"), eventWait(execution.id, "b")];
    await applyOne(
      ctx.store,
      checkpoint(fence, { transition: "park", currentStep: "a", waitingForEvent: "a", wakeAt: null }, { steps: waits }),
    );
    await ctx.store.deliverEvent({ executionId: execution.id, eventName: "a", payloadJson: "1", now: T0 + 5 });
    const [again] = await claimRows(ctx.store, { workerId: "w", tasks: ["d-run"], limit: 1, now: T0 + 6, leaseMs: LEASE_MS });
    assert.ok(again);
    const running = await rowOf(ctx.store, execution.id);
    assert.deepEqual(
      await ctx.store.deliverEvent({ executionId: execution.id, eventName: "b", payloadJson: "2", now: T0 + 7 }),
      { outcome: "delivered", task: "d-run" },
      "every open wait accepts its event, whatever the execution is doing",
    );
    const told = await rowOf(ctx.store, execution.id);
    assertApplied(told, running, TRANSITIONS.deliver, { now: T0 + 7 });
    assert.equal(told.wake_requested, 1);
    const fence2 = { executionId: execution.id, leaseToken: again.execution.leaseToken };
    const park = checkpoint(
      fence2,
      { transition: "park", currentStep: "b", waitingForEvent: "b", wakeAt: null, stepsCompleted: 1 },
      {
        now: T0 + 8,
        steps: [eventWait(execution.id, "b")],
      },
    );
    assert.equal(await applyOne(ctx.store, park), true);
    const parked = await rowOf(ctx.store, execution.id);
    assertApplied(parked, told, TRANSITIONS.park, checkpointParams(park));
    assert.deepEqual([parked.status, parked.runnable_at], ["pending", T0 + 8], "the park requeues it at once");
    const b = (await ctx.store.getStepDetail(execution.id)).steps.find((s) => s.name === "b");
    assert.deepEqual([b?.state, b?.resultJson], ["completed", "2"], "the park did not reopen the delivered wait");
  });

  test("deliver_claimed and deliver_completed: an eager resume, and one that ends in the delivery", async () => {
    const claimFor = { workerId: "eager", leaseMs: LEASE_MS, tasks: ["d-eager"] };
    const first = await createWaitingForEvent(ctx.store, "go", { task: "d-eager" });
    const before = await rowOf(ctx.store, first.id);
    await ctx.store.deliverEvent({ executionId: first.id, eventName: "go", payloadJson: "1", now: T0 + 4, claimFor });
    assertApplied(await rowOf(ctx.store, first.id), before, COMPOSITES.deliver_claimed, {
      now: T0 + 4,
      worker: "eager",
      lease_ms: LEASE_MS,
    });

    const second = await createWaitingForEvent(ctx.store, "go", { task: "d-eager" });
    const prior = await rowOf(ctx.store, second.id);
    const finished = { transition: "complete" as const, outputJson: '"ok"', at: T0 + 6, stepsCompleted: 1 };
    await ctx.store.deliverEvent({
      executionId: second.id,
      eventName: "go",
      payloadJson: "1",
      now: T0 + 5,
      claimFor,
      finishIfToken: { leaseToken: prior.lease_token + 1, finished },
    });
    const params = {
      now: T0 + 5,
      worker: "eager",
      lease_ms: LEASE_MS,
      at: T0 + 6,
      output: '"ok"',
      steps_completed: 1,
      crashes: 0,
      consumed: 0,
    };
    assertApplied(await rowOf(ctx.store, second.id), prior, COMPOSITES.deliver_completed, params);
  });

  test("buffer_event: an event before its wait, for a task that buffers them", async () => {
    await ctx.store.registerTasks("w", [{ name: "d-buf", inputSchemaJson: null, options: { bufferedEvents: true } }], T0);
    const pending = await create(ctx.store, { task: "d-buf" });
    const before = await rowOf(ctx.store, pending.id);
    assert.deepEqual(await ctx.store.deliverEvent({ executionId: pending.id, eventName: "early", payloadJson: '{"x":1}', now: T0 + 3 }), {
      outcome: "buffered",
      task: "d-buf",
    });
    assertApplied(await rowOf(ctx.store, pending.id), before, TRANSITIONS.buffer_event, { now: T0 + 3 });
    const [claimed] = await claimRows(ctx.store, { workerId: "w", tasks: ["d-buf"], limit: 1, now: T0 + 4, leaseMs: LEASE_MS });
    assert.deepEqual(
      claimed?.events.map((e) => [e.name, e.payloadJson, e.createdAt]),
      [["early", '{"x":1}', T0 + 3]],
      "the claim brings the buffered event",
    );
  });

  test("cancel: of a pending, a waiting and a running execution", async () => {
    const pending = await create(ctx.store, { task: "x-p" });
    const waiting = await createWaitingForEvent(ctx.store, "go", { task: "x-w" });
    const { execution: running } = await createRunning(ctx.store, { task: "x-r" });
    for (const id of [pending.id, waiting.id, running.id]) {
      const before = await rowOf(ctx.store, id);
      assert.equal((await ctx.store.cancelExecution(id, T0 + 11)).outcome, "cancelled");
      assertApplied(await rowOf(ctx.store, id), before, TRANSITIONS.cancel, { now: T0 + 11 });
    }
  });

  test("await_slot and grant_slot: a full concurrency group parks the row; the freed slot goes to it", async () => {
    const group = { key: "acme", limit: 1 };
    const task = "slot";
    const a = newId();
    const b = newId();
    await ctx.store.createExecution({ id: a, task, dataJson: "{}", idempotencyKey: null, now: T0, concurrency: group });
    await ctx.store.createExecution({ id: b, task, dataJson: "{}", idempotencyKey: null, now: T0 + 1, concurrency: group });
    const first = await ctx.store.claim({ workerId: "w", tasks: [task], limit: 1, now: T0 + 2, leaseMs: LEASE_MS });
    assert.deepEqual(
      first.claimed.map((c) => c.execution.id),
      [a],
    );
    const bBefore = await rowOf(ctx.store, b);
    const second = await ctx.store.claim({ workerId: "w2", tasks: [task], limit: 5, now: T0 + 3, leaseMs: LEASE_MS });
    assert.deepEqual([second.claimed.length, second.more], [0, true], "no slot: nothing claimed, the row parked");
    const parked = await rowOf(ctx.store, b);
    assertApplied(parked, bBefore, TRANSITIONS.await_slot, { now: T0 + 3 });
    const claimedA = first.claimed[0] as NonNullable<(typeof first.claimed)[0]>;
    const fence = { executionId: a, leaseToken: claimedA.execution.leaseToken };
    const owner = { task, parentId: null, parentStep: null, concurrencyKey: "acme", concurrencyLimit: 1 };
    await applyOne(ctx.store, checkpoint(fence, { transition: "complete", outputJson: "1" }, { now: T0 + 4, owner }));
    assertApplied(await rowOf(ctx.store, b), parked, TRANSITIONS.grant_slot, { now: T0 + 4 });
    const third = await ctx.store.claim({ workerId: "w2", tasks: [task], limit: 5, now: T0 + 5, leaseMs: LEASE_MS });
    assert.deepEqual(
      third.claimed.map((c) => c.execution.id),
      [b],
    );
  });

  test("claim with concurrency groups: a group's free slots go to its rows in claim order, an expired running row keeps its own", async () => {
    const task = "slots-mixed";
    const groupA = { key: "a", limit: 2 };
    const groupB = { key: "b", limit: 1 };
    const make = async (at: number, concurrency?: { key: string; limit: number }) => {
      const id = newId();
      await ctx.store.createExecution({ id, task, dataJson: "{}", idempotencyKey: null, now: at, concurrency });
      return id;
    };
    // b0 runs first and its worker dies: at the claim below its lease has expired, so it is due again.
    const b0 = await make(T0 - 10, groupB);
    await ctx.store.claim({ workerId: "gone", tasks: [task], limit: 1, now: T0 - 10, leaseMs: LEASE_MS });
    const [a1, a2, a3, b1, free] = [await make(T0, groupA), await make(T0 + 1, groupA), await make(T0 + 2, groupA)].concat([
      await make(T0 + 3, groupB),
      await make(T0 + 4),
    ]) as [string, string, string, string, string];
    const now = T0 - 10 + LEASE_MS + 1;
    const result = await ctx.store.claim({ workerId: "w", tasks: [task], limit: 10, now, leaseMs: LEASE_MS });
    assert.deepEqual(new Set(result.claimed.map((c) => c.execution.id)), new Set([a1, a2, free, b0]));
    assert.equal(result.claimed.find((c) => c.execution.id === b0)?.recovered, true);
    for (const id of [a3, b1]) {
      const row = await rowOf(ctx.store, id);
      assert.deepEqual([row.status, row.runnable_at], ["pending", null], `${id === a3 ? "a3" : "b1"} waits for a slot`);
    }
  });

  test("resume: a failed and a cancelled row resumed by an operator are the definition's; other statuses are left alone", async () => {
    const failed = await createRunning(ctx.store, { task: `t-${newId()}` });
    const error = { message: "boom", step: null };
    assert.equal(await applyOne(ctx.store, checkpoint(failed.fence, { transition: "fail", error }, { now: T0 + 5 })), true);
    const cancelled = await create(ctx.store, { task: `t-${newId()}` });
    await ctx.store.cancelExecution(cancelled.id, T0 + 6);
    for (const id of [failed.execution.id, cancelled.id]) {
      const before = await rowOf(ctx.store, id);
      const outcome = await ctx.store.resumeExecution(id, T0 + 10);
      assert.equal(outcome.outcome, "resumed");
      const after = await rowOf(ctx.store, id);
      assertApplied(after, before, TRANSITIONS.resume, { now: T0 + 10 });
      assert.deepEqual(outcome.outcome === "resumed" && toRow(outcome.execution), after, "the outcome carries the row after");
    }
    const pending = await rowOf(ctx.store, cancelled.id);
    const refused = await ctx.store.resumeExecution(cancelled.id, T0 + 11);
    assert.equal(refused.outcome, "not_retryable");
    assert.deepEqual(await rowOf(ctx.store, cancelled.id), pending, "a refused resume writes nothing");
  });

  test("a step record in a final state is never overwritten, except to be discarded", async () => {
    const { execution, fence } = await createRunning(ctx.store, { task: "final" });
    const done = stepRecord(execution.id, "s", { resultJson: "1" });
    await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: null }, { steps: [done] }));
    const reopened = { ...done, state: "waiting" as const, resultJson: null, completedAt: null };
    await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: null }, { steps: [reopened] }));
    assert.deepEqual((await ctx.store.getStepDetail(execution.id)).steps, [done]);
    const discarded = { ...done, state: "discarded" as const };
    await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: null }, { steps: [discarded] }));
    assert.deepEqual((await ctx.store.getStepDetail(execution.id)).steps, [discarded]);
  });

  test("expire_lease: rows leased to a worker that does not hold them become due at once; held ones are left", async () => {
    const lost = await createRunning(ctx.store, { task: "lost" });
    const held = await createRunning(ctx.store, { task: "held" });
    const before = await rowOf(ctx.store, lost.execution.id);
    const heldBefore = await rowOf(ctx.store, held.execution.id);
    assert.equal(await ctx.store.releaseUnheld("worker-1", [held.execution.id], T0 + 3), 1);
    assertApplied(await rowOf(ctx.store, lost.execution.id), before, TRANSITIONS.expire_lease, { now: T0 + 3 });
    assert.deepEqual(await rowOf(ctx.store, held.execution.id), heldBefore);
    const [again] = await claimRows(ctx.store, { workerId: "w-2", tasks: ["lost"], limit: 1, now: T0 + 3, leaseMs: LEASE_MS });
    assert.equal(again?.execution.id, lost.execution.id, "claimable now, not after its lease");
  });

  test("a repeated cancel tells listeners again (its first reply and notices may have been lost)", async () => {
    const { execution } = await createRunning(ctx.store, { task: "again" });
    await ctx.store.cancelExecution(execution.id, T0 + 1);
    const recorder = new NoticeRecorder(ctx.store);
    try {
      assert.equal((await ctx.store.cancelExecution(execution.id, T0 + 2)).outcome, "already_cancelled");
      await recorder.waitFor((n) => n.kind === "cancelled" && n.executionId === execution.id, "cancelled notice on the repeat");
    } finally {
      recorder.unsubscribe();
    }
  });
}
