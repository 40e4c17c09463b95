/**
 * API-side behaviour: create, idempotency, reads, lists and totals, status counts, cancel, task registry.
 *
 * Long because it is a list of small cases, each run on both stores; the suite is split by area
 * across the store-behaviour-*.ts files.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EXECUTION_STATUSES, type ExecutionRecord, type ExecutionStatus, emptyCounts } from "../../src/core/types.js";
import type { Store } from "../../src/store/store.js";
import {
  applyOne,
  checkpoint,
  claimRows,
  create,
  createRunning,
  EXTRA_DEFAULTS,
  NoticeRecorder,
  newId,
  type SuiteContext,
  T0,
} from "./store-fixtures.js";

export function apiBehaviour(ctx: SuiteContext): void {
  test("createExecution: beyond maxQueuedInserts waiting inserts, a new one is refused at once with overloaded; the rest are stored; pendingInserts counts the waiting ones", async () => {
    const store = await ctx.peer({ maxQueuedInserts: 3 });
    const ids = Array.from({ length: 40 }, () => newId());
    // All in one turn: more than the bound must be waiting at once, whatever the store sends ahead.
    const calls = ids.map((id, i) => store.createExecution({ id, task: "burst", dataJson: "{}", idempotencyKey: null, now: T0 + i }));
    assert.equal(store.pendingInserts(), 3, "the bound's worth waits; the refused ones are not counted");
    const outcomes = await Promise.allSettled(calls);
    assert.equal(store.pendingInserts(), 0, "every call answered");
    const refused = outcomes.flatMap((o, i) => (o.status === "rejected" ? [i] : []));
    const stored = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [i] : []));
    assert.ok(refused.length > 0, "some inserts were refused");
    assert.ok(stored.length >= 3, "the bound's worth (and whatever went ahead) was stored");
    for (const i of refused) {
      const reason = (outcomes[i] as PromiseRejectedResult).reason as { code?: unknown };
      assert.equal(reason.code, "overloaded");
      assert.equal(await store.getExecution(ids[i]!), null, "a refused insert stored nothing");
    }
    for (const i of stored) assert.equal((await store.getExecution(ids[i]!))?.status, "pending");
    assert.equal((await store.countByStatus()).pending, stored.length);
    // The queue drained: the next insert goes through.
    assert.equal(
      (await store.createExecution({ id: newId(), task: "burst", dataJson: "{}", idempotencyKey: null, now: T0 + 99 })).created,
      true,
    );
  });

  test("createExecution / getExecution round trip", async () => {
    const id = newId();
    // Odd spacing proves data is stored as text, never parsed and re-encoded.
    const result = await ctx.store.createExecution({ id, task: "demo", dataJson: '{ "b": 2,  "a": [1] }', idempotencyKey: "k-1", now: T0 });
    assert.equal(result.created, true);
    const expected = {
      id,
      task: "demo",
      status: "pending",
      dataJson: '{ "b": 2,  "a": [1] }',
      idempotencyKey: "k-1",
      createdAt: T0,
      updatedAt: T0,
      startedAt: null,
      completedAt: null,
      outputJson: null,
      error: null,
      stepsCompleted: 0,
      currentStep: null,
      waitingForEvent: null,
      attempt: 0,
      runnableAt: T0,
      leaseToken: 0,
      leaseOwner: null,
      ...EXTRA_DEFAULTS,
    };
    assert.deepEqual(result.execution, expected);
    assert.deepEqual(await ctx.store.getExecution(id), expected);
    assert.equal(await ctx.store.getExecution(newId()), null);
  });

  test("idempotency: the same key returns the first execution unchanged", async () => {
    const first = await create(ctx.store, { key: "order-7", dataJson: '{"v":1}' });
    const again = await ctx.store.createExecution({
      id: newId(),
      task: "demo",
      dataJson: '{"v":2}',
      idempotencyKey: "order-7",
      now: T0 + 5,
    });
    assert.equal(again.created, false);
    assert.deepEqual(again.execution, first);
    const other = await ctx.store.createExecution({ id: newId(), task: "demo", dataJson: "{}", idempotencyKey: null, now: T0 });
    const another = await ctx.store.createExecution({ id: newId(), task: "demo", dataJson: "{}", idempotencyKey: null, now: T0 });
    assert.equal(other.created && another.created, true, "null keys never collide");
    assert.equal((await ctx.store.countByStatus()).pending, 3);
  });

  test("createExecutions: results in order; a stored or repeated key answers with its holder; one notice per task", async () => {
    const held = await create(ctx.store, { task: "t2", key: "held" });
    const recorder = new NoticeRecorder(ctx.store);
    const ids = [newId(), newId(), newId(), newId(), newId()];
    const row = (i: number, task: string, idempotencyKey: string | null) => ({
      id: ids[i] as string,
      task,
      dataJson: `{"i":${i}}`,
      idempotencyKey,
      now: T0 + 10,
    });
    const results = await ctx.store.createExecutions([
      row(0, "t1", null),
      row(1, "t2", "held"),
      row(2, "t1", "new"),
      row(3, "t1", "new"),
      row(4, "t2", null),
    ]);
    recorder.unsubscribe();
    assert.deepEqual(
      results.map((r) => [r.created, r.execution.id]),
      [
        [true, ids[0]],
        [false, held.id],
        [true, ids[2]],
        [false, ids[2]],
        [true, ids[4]],
      ],
    );
    // Each created row is answered exactly as it was stored.
    for (const i of [0, 2, 4]) assert.deepEqual(await ctx.store.getExecution(ids[i] as string), results[i]?.execution);
    assert.deepEqual(results[3]?.execution, results[2]?.execution, "a repeated key answers with the row its batch made");
    const first = await ctx.store.getExecution(ids[0] as string);
    assert.equal(first?.status, "pending");
    assert.equal(first?.dataJson, '{"i":0}');
    assert.equal(first?.runnableAt, T0 + 10);
    assert.equal(await ctx.store.getExecution(ids[3] as string), null);
    assert.equal((await ctx.store.countByStatus()).pending, 4);
    const runnable = recorder.notices.filter((n) => n.kind === "runnable");
    assert.deepEqual(runnable.map((n) => (n.kind === "runnable" ? [n.task, n.at] : null)).sort(), [
      ["t1", T0 + 10],
      ["t2", T0 + 10],
    ]);
    assert.deepEqual(await ctx.store.createExecutions([]), []);
  });

  test("createExecutions: all or none (a failing row leaves nothing of its batch)", async () => {
    const taken = await create(ctx.store, {});
    const fresh = newId();
    const batch = [
      { id: fresh, task: "demo", dataJson: "{}", idempotencyKey: null, now: T0 },
      // An id that is already stored cannot be inserted again (ids are random: a clash is a bug to surface).
      { id: taken.id, task: "demo", dataJson: "{}", idempotencyKey: null, now: T0 },
    ];
    await assert.rejects(ctx.store.createExecutions(batch));
    assert.equal(await ctx.store.getExecution(fresh), null);
    assert.equal((await ctx.store.countByStatus()).pending, 1);
  });

  test("idempotency: the same key raced 20 times across two instances creates exactly one", async () => {
    const peer = await ctx.peer();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? ctx.store : peer).createExecution({
          id: newId(),
          task: "demo",
          dataJson: "{}",
          idempotencyKey: "race",
          now: T0 + i,
        }),
      ),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.execution.id)).size, 1);
    assert.equal((await ctx.store.countByStatus()).pending, 1);
  });

  test("createExecution: concurrent calls each get their own answer; a row the store refuses fails alone", async () => {
    const taken = await create(ctx.store, {});
    const inputs = Array.from({ length: 40 }, (_, i) => ({
      id: newId(),
      task: i % 2 === 0 ? "even" : "odd",
      dataJson: JSON.stringify({ i }),
      // Three calls share each of the keys k0..k3.
      idempotencyKey: i < 12 ? `k${i % 4}` : null,
      now: T0 + i,
    }));
    // An id already stored cannot be inserted again: the store refuses it, whatever else goes with it.
    inputs[20] = { ...(inputs[20] as (typeof inputs)[number]), id: taken.id };
    const settled = await Promise.allSettled(inputs.map((input) => ctx.store.createExecution(input)));
    assert.equal(settled[20]?.status, "rejected", "the refused row");
    const results = settled.map((r) => (r.status === "fulfilled" ? r.value : null));
    for (const [i, input] of inputs.entries()) {
      if (i === 20) continue;
      const result = results[i];
      assert.ok(result, `call ${i} answered`);
      if (input.idempotencyKey === null) {
        assert.deepEqual([result.created, result.execution.id, result.execution.dataJson], [true, input.id, input.dataJson]);
      } else {
        const holders = results.filter((r, k) => r && inputs[k]?.idempotencyKey === input.idempotencyKey);
        assert.equal(holders.filter((r) => r?.created).length, 1, `one created for ${input.idempotencyKey}`);
        assert.equal(new Set(holders.map((r) => r?.execution.id)).size, 1, `one holder for ${input.idempotencyKey}`);
      }
    }
    // 27 without a key (one refused), 4 keys, and the fixture's row.
    assert.equal((await ctx.store.countByStatus()).pending, 27 + 4 + 1);
  });

  test("idempotency: a key reused with another task returns the existing row with its original task", async () => {
    const first = await create(ctx.store, { task: "alpha", key: "shared" });
    const again = await ctx.store.createExecution({ id: newId(), task: "beta", dataJson: "{}", idempotencyKey: "shared", now: T0 + 1 });
    assert.equal(again.created, false);
    assert.equal(again.execution.id, first.id);
    assert.equal(again.execution.task, "alpha");
  });

  test("listExecutions: filters by status and task, with totals for the whole match", async () => {
    const rows: ExecutionRecord[] = [];
    for (let i = 0; i < 6; i++) rows.push(await create(ctx.store, { task: i % 2 === 0 ? "even" : "odd", now: T0 + i }));
    await ctx.store.cancelExecution(rows[0]!.id, T0 + 10);
    await ctx.store.cancelExecution(rows[1]!.id, T0 + 10);
    const ids = async (q: { status?: ExecutionStatus; task?: string; limit?: number }) => {
      const result = await ctx.store.listExecutions({ limit: 50, offset: 0, order: "asc", ...q });
      return { ids: result.executions.map((e) => e.id), total: result.total };
    };
    const id = (i: number) => rows[i]!.id;
    assert.deepEqual(await ids({}), { ids: rows.map((r) => r.id), total: 6 });
    assert.deepEqual(await ids({ task: "even" }), { ids: [id(0), id(2), id(4)], total: 3 });
    assert.deepEqual(await ids({ status: "cancelled" }), { ids: [id(0), id(1)], total: 2 });
    assert.deepEqual(await ids({ task: "odd", status: "pending" }), { ids: [id(3), id(5)], total: 2 });
    assert.deepEqual(await ids({ task: "odd", status: "pending", limit: 1 }), { ids: [id(3)], total: 2 });
    assert.deepEqual(await ids({ task: "nobody" }), { ids: [], total: 0 });
    assert.deepEqual(await ids({ status: "failed" }), { ids: [], total: 0 });
  });

  test("listExecutions: desc is the exact reverse of asc, and pages never repeat or skip", async () => {
    // Several rows share a created_at, so the id tie-break decides their order.
    for (let i = 0; i < 11; i++) await create(ctx.store, { now: T0 + Math.floor(i / 3) });
    const all = async (order: "asc" | "desc") =>
      (await ctx.store.listExecutions({ limit: 100, offset: 0, order })).executions.map((e) => `${e.createdAt}/${e.id}`);
    const asc = await all("asc");
    assert.deepEqual(asc, [...asc].sort());
    assert.deepEqual(await all("desc"), [...asc].reverse());
    for (const order of ["asc", "desc"] as const) {
      const paged: string[] = [];
      for (let offset = 0; offset < 12; offset += 4) {
        const page = await ctx.store.listExecutions({ limit: 4, offset, order });
        assert.equal(page.total, 11);
        paged.push(...page.executions.map((e) => `${e.createdAt}/${e.id}`));
      }
      assert.deepEqual(paged, await all(order));
    }
  });

  test("countByStatus: all six statuses, consistent with list totals after every transition", async () => {
    const expectCounts = async (partial: Partial<Record<ExecutionStatus, number>>) => {
      const expected = { ...emptyCounts(), ...partial };
      assert.deepEqual(await ctx.store.countByStatus(), expected);
      for (const status of EXECUTION_STATUSES) {
        const listed = await ctx.store.listExecutions({ status, limit: 1, offset: 0, order: "asc" });
        assert.equal(listed.total, expected[status], `list total for ${status}`);
      }
    };
    await expectCounts({});
    const a = await createRunning(ctx.store, { task: "a" });
    await create(ctx.store, { task: "b" });
    await expectCounts({ running: 1, pending: 1 });
    await applyOne(
      ctx.store,
      checkpoint(a.fence, { transition: "park", currentStep: "nap", waitingForEvent: null, wakeAt: T0 + 10, stepsCompleted: 0 }),
    );
    await expectCounts({ waiting: 1, pending: 1 });
    const again = await claimRows(ctx.store, { workerId: "w", tasks: ["a"], limit: 1, now: T0 + 10, leaseMs: 1000 });
    const fence = { executionId: a.execution.id, leaseToken: again[0]!.execution.leaseToken };
    await expectCounts({ running: 1, pending: 1 });
    await applyOne(ctx.store, checkpoint(fence, { transition: "release", runAt: T0 }));
    await expectCounts({ pending: 2 });
    const b = await createRunning(ctx.store, { task: "c" });
    await applyOne(ctx.store, checkpoint(b.fence, { transition: "complete", outputJson: "1", stepsCompleted: 0 }));
    const c = await createRunning(ctx.store, { task: "d" });
    await applyOne(ctx.store, checkpoint(c.fence, { transition: "fail", error: { message: "x", step: null }, stepsCompleted: 0 }));
    await ctx.store.cancelExecution(a.execution.id, T0 + 20);
    await expectCounts({ pending: 1, completed: 1, failed: 1, cancelled: 1 });
  });

  test("cancelExecution: outcome for each status", async () => {
    const store = ctx.store;
    const pending = await create(store, { task: "p" });
    const running = await createRunning(store, { task: "r" });
    const waiting = await createRunning(store, { task: "w" });
    await applyOne(
      store,
      checkpoint(waiting.fence, { transition: "park", currentStep: "s", waitingForEvent: null, wakeAt: T0 + 99, stepsCompleted: 1 }),
    );
    const done = await createRunning(store, { task: "c" });
    await applyOne(store, checkpoint(done.fence, { transition: "complete", outputJson: "7", stepsCompleted: 0 }));
    const failed = await createRunning(store, { task: "f" });
    await applyOne(store, checkpoint(failed.fence, { transition: "fail", error: { message: "boom", step: null }, stepsCompleted: 0 }));

    for (const id of [pending.id, running.execution.id, waiting.execution.id]) {
      const result = await store.cancelExecution(id, T0 + 50);
      assert.equal(result.outcome, "cancelled");
      assert.equal(result.execution?.status, "cancelled");
      assert.equal(result.execution?.completedAt, T0 + 50);
      assert.equal(result.execution?.runnableAt, null);
      assert.equal(result.execution?.currentStep, null);
      assert.equal(result.execution?.leaseOwner, null);
    }
    const twice = await store.cancelExecution(pending.id, T0 + 60);
    assert.equal(twice.outcome, "already_cancelled");
    assert.equal(twice.execution?.completedAt, T0 + 50, "a repeated cancel changes nothing");
    for (const id of [done.execution.id, failed.execution.id]) {
      const result = await store.cancelExecution(id, T0 + 70);
      assert.equal(result.outcome, "not_cancellable");
      assert.notEqual(result.execution?.status, "cancelled");
      assert.notEqual((await store.getExecution(id))?.status, "cancelled");
    }
    assert.deepEqual(await store.cancelExecution(newId(), T0), { outcome: "not_found", execution: null });
    // A claim never takes a cancelled row, whatever its old runnable_at was.
    assert.deepEqual(await claimRows(store, { workerId: "w", tasks: ["p", "r", "w"], limit: 10, now: T0 + 1e9, leaseMs: 1 }), []);
  });

  test("cancelExecution: racing cancels from two instances both succeed and cancel once", async () => {
    const peer = await ctx.peer();
    const { execution } = await createRunning(ctx.store);
    const results = await Promise.all([ctx.store.cancelExecution(execution.id, T0 + 1), peer.cancelExecution(execution.id, T0 + 2)]);
    const outcomes = results.map((r) => r.outcome).sort();
    assert.ok(
      JSON.stringify(outcomes) === '["already_cancelled","cancelled"]' || JSON.stringify(outcomes) === '["cancelled","cancelled"]',
      `unexpected outcomes ${outcomes}`,
    );
    assert.ok(outcomes.includes("cancelled"));
    for (const r of results) assert.equal(r.execution?.status, "cancelled");
    assert.equal((await ctx.store.countByStatus()).cancelled, 1);
  });

  test("getStatuses: existing ids only, across more ids than one chunk", async () => {
    const a = await create(ctx.store, { task: "a" });
    const b = await createRunning(ctx.store, { task: "b" });
    const unknown = Array.from({ length: 1200 }, () => newId());
    const statuses = await ctx.store.getStatuses([...unknown.slice(0, 700), a.id, ...unknown.slice(700), b.execution.id]);
    assert.deepEqual(
      [...statuses.entries()].sort(),
      [
        [a.id, "pending"],
        [b.execution.id, "running"],
      ].sort(),
    );
    assert.equal((await ctx.store.getStatuses([])).size, 0);
  });

  test("registerTasks / getTask: upsert by name", async () => {
    await ctx.store.registerTasks(
      "worker-a",
      [
        { name: "one", inputSchemaJson: '{"type":"object"}', options: {} },
        { name: "two", inputSchemaJson: null, options: { concurrencyLimit: 2, bufferedEvents: true } },
      ],
      T0,
    );
    assert.deepEqual(await ctx.store.getTask("one"), { name: "one", inputSchemaJson: '{"type":"object"}', options: {} });
    assert.deepEqual(await ctx.store.getTask("two"), {
      name: "two",
      inputSchemaJson: null,
      options: { concurrencyLimit: 2, bufferedEvents: true },
    });
    assert.equal(await ctx.store.getTask("three"), null);
    const peer: Store = await ctx.peer();
    await peer.registerTasks("worker-b", [{ name: "one", inputSchemaJson: '{"type":"array"}', options: {} }], T0 + 1);
    assert.deepEqual(await ctx.store.getTask("one"), { name: "one", inputSchemaJson: '{"type":"array"}', options: {} });
  });

  test("ping answers and migrate is repeatable", async () => {
    await ctx.store.ping();
    await ctx.store.migrate();
    await create(ctx.store);
    await ctx.store.migrate();
    assert.equal((await ctx.store.countByStatus()).pending, 1, "a repeated migrate keeps the data");
  });
}
