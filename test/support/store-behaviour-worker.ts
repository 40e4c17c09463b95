/**
 * Worker-side behaviour: claims, leases and fencing, checkpoints (group commit), timers, requeue and retry.
 *
 * Long because it is a list of small cases, each run on both stores; the suite is split by area
 * across the store-behaviour-*.ts files.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Store } from "../../src/store/store.js";
import {
  applyOne,
  checkpoint,
  claimRows,
  create,
  createRunning,
  EXTRA_DEFAULTS,
  LEASE_MS,
  NoticeRecorder,
  newId,
  type SuiteContext,
  stepRecord,
  T0,
} from "./store-fixtures.js";

async function claimAll(store: Store, worker: string, now: number, limit: number): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const claimed = await claimRows(store, { workerId: worker, tasks: ["bulk"], limit, now, leaseMs: LEASE_MS });
    if (claimed.length === 0) return ids;
    for (const c of claimed) {
      assert.equal(c.execution.leaseOwner, worker);
      ids.push(c.execution.id);
    }
  }
}

export function workerBehaviour(ctx: SuiteContext): void {
  test("claim: sets the lease, attempt and start time; new work comes without steps", async () => {
    const created = await create(ctx.store, { task: "t", now: T0 });
    const [claimed, ...rest] = await claimRows(ctx.store, { workerId: "w-1", tasks: ["t"], limit: 5, now: T0 + 7, leaseMs: 1000 });
    assert.equal(rest.length, 0);
    assert.deepEqual(claimed, {
      execution: {
        ...created,
        status: "running",
        leaseToken: 1,
        leaseOwner: "w-1",
        runnableAt: T0 + 1007,
        startedAt: T0 + 7,
        timeoutFrom: T0 + 7,
        attempt: 1,
        updatedAt: T0 + 7,
      },
      steps: [],
      events: [],
      recovered: false,
    });
    assert.deepEqual(await ctx.store.getExecution(created.id), claimed?.execution);
  });

  test("eager start: an execution born claimed is running, fenced with token 1, and reclaimable only after its lease", async () => {
    const id = newId();
    const task = `eager-${id}`;
    const claimFor = { workerId: "eager-worker", leaseMs: LEASE_MS };
    const made = await ctx.store.createExecution({ id, task, dataJson: "{}", idempotencyKey: `key-${id}`, now: T0, claimFor });
    assert.equal(made.created, true);
    const { execution } = made;
    assert.deepEqual(
      [execution.status, execution.leaseToken, execution.leaseOwner, execution.attempt, execution.startedAt, execution.runnableAt],
      ["running", 1, "eager-worker", 1, T0, T0 + LEASE_MS],
    );
    assert.equal((await ctx.store.countByStatus()).running >= 1, true);
    assert.deepEqual(
      await claimRows(ctx.store, { workerId: "other", tasks: [task], limit: 5, now: T0 + LEASE_MS - 1, leaseMs: LEASE_MS }),
      [],
    );
    const again = await ctx.store.createExecution({
      id: newId(),
      task,
      dataJson: "{}",
      idempotencyKey: `key-${id}`,
      now: T0 + 1,
      claimFor,
    });
    assert.deepEqual(
      [again.created, again.execution.id, again.execution.leaseToken],
      [false, id, 1],
      "idempotent replay leaves the row alone",
    );
    const fence = { executionId: id, leaseToken: 1 };
    assert.equal(await applyOne(ctx.store, checkpoint(fence, { transition: "complete", outputJson: "1", stepsCompleted: 0 })), true);
    assert.equal((await ctx.store.getExecution(id))?.status, "completed");
  });

  test("eager start born finished: the row is terminal at once, counted, announced, never claimed; a replay leaves it", async () => {
    const task = `born-${newId()}`;
    const claimFor = { workerId: "eager-worker", leaseMs: LEASE_MS };
    const before = await ctx.store.countByStatus();
    const recorder = new NoticeRecorder(ctx.store);
    const doneId = newId();
    const done = await ctx.store.createExecution({
      id: doneId,
      task,
      dataJson: '{"n":1}',
      idempotencyKey: `key-${doneId}`,
      now: T0,
      claimFor,
      finished: { transition: "complete", outputJson: '{"ok":true}', stepsCompleted: 0, at: T0 + 3 },
    });
    const error = { message: "boom", step: null, name: "Error", code: "E_BOOM" };
    const failed = await ctx.store.createExecution({
      id: newId(),
      task,
      dataJson: "{}",
      idempotencyKey: null,
      now: T0 + 1,
      claimFor,
      finished: { transition: "fail", error, stepsCompleted: 2, at: T0 + 4 },
    });
    recorder.unsubscribe();
    assert.deepEqual([done.created, failed.created], [true, true]);
    assert.deepEqual(done.execution, {
      id: doneId,
      task,
      status: "completed",
      dataJson: '{"n":1}',
      idempotencyKey: `key-${doneId}`,
      createdAt: T0,
      updatedAt: T0 + 3,
      startedAt: T0,
      completedAt: T0 + 3,
      outputJson: '{"ok":true}',
      error: null,
      stepsCompleted: 0,
      currentStep: null,
      waitingForEvent: null,
      attempt: 1,
      runnableAt: null,
      leaseToken: 1,
      leaseOwner: null,
      ...EXTRA_DEFAULTS,
      timeoutFrom: T0,
    });
    assert.deepEqual(await ctx.store.getExecution(doneId), done.execution);
    assert.deepEqual(
      [failed.execution.status, failed.execution.error, failed.execution.outputJson, failed.execution.stepsCompleted],
      ["failed", error, null, 2],
    );
    assert.deepEqual(await ctx.store.getExecution(failed.execution.id), failed.execution);
    const after = await ctx.store.countByStatus();
    assert.deepEqual([after.completed - before.completed, after.failed - before.failed, after.running - before.running], [1, 1, 0]);
    assert.deepEqual(
      recorder.notices.filter((n) => n.kind !== "runnable" || n.task === task),
      [
        { kind: "terminal", executionId: doneId, status: "completed" },
        { kind: "terminal", executionId: failed.execution.id, status: "failed" },
      ],
    );
    assert.deepEqual(
      await claimRows(ctx.store, { workerId: "other", tasks: [task], limit: 5, now: T0 + 10 * LEASE_MS, leaseMs: LEASE_MS }),
      [],
    );
    const again = await ctx.store.createExecution({
      id: newId(),
      task,
      dataJson: "{}",
      idempotencyKey: `key-${doneId}`,
      now: T0 + 5,
      claimFor,
      finished: { transition: "complete", outputJson: "2", stepsCompleted: 0, at: T0 + 6 },
    });
    assert.equal(again.created, false);
    assert.deepEqual(again.execution, done.execution, "the holder is returned untouched");
  });

  test("claim: only the given tasks, only due rows, oldest runnable first, at most limit", async () => {
    const late = await create(ctx.store, { task: "a", now: T0 + 500 });
    const first = await create(ctx.store, { task: "a", now: T0 + 1 });
    await create(ctx.store, { task: "b", now: T0 });
    const second = await create(ctx.store, { task: "a", now: T0 + 2 });
    const claim = (limit: number) => claimRows(ctx.store, { workerId: "w", tasks: ["a", "x"], limit, now: T0 + 100, leaseMs: LEASE_MS });
    assert.deepEqual(
      (await claim(1)).map((c) => c.execution.id),
      [first.id],
    );
    assert.deepEqual(
      (await claim(10)).map((c) => c.execution.id),
      [second.id],
    );
    assert.deepEqual(await claim(10), [], "rows of other tasks and rows not yet due stay put");
    assert.deepEqual(await claimRows(ctx.store, { workerId: "w", tasks: [], limit: 10, now: T0 + 1e6, leaseMs: 1 }), []);
    assert.equal((await ctx.store.getExecution(late.id))?.status, "pending");
    assert.equal((await ctx.store.countByStatus()).pending, 2);
  });

  test("claim: concurrent claimers on several instances take each of 200 rows exactly once", async () => {
    const stores = [ctx.store, await ctx.peer(), await ctx.peer(), await ctx.peer()];
    const created = new Set<string>();
    for (let i = 0; i < 200; i++) created.add((await create(ctx.store, { task: "bulk", now: T0 + (i % 17) })).id);
    const perWorker = await Promise.all(stores.map((store, i) => claimAll(store, `w-${i}`, T0 + 100, 7)));
    const all = perWorker.flat();
    assert.equal(all.length, 200, "no row claimed twice");
    assert.deepEqual(new Set(all), created);
    assert.equal((await ctx.store.countByStatus()).running, 200);
  });

  test("lease expiry: the row is reclaimed with a higher token and the old holder is fenced out", async () => {
    const { execution, fence } = await createRunning(ctx.store, { task: "lease" });
    await applyOne(
      ctx.store,
      checkpoint(fence, { transition: "progress", currentStep: "b", stepsCompleted: 1 }, { steps: [stepRecord(execution.id, "a")] }),
    );
    const expiry = T0 + LEASE_MS;
    const claim = (now: number) => claimRows(ctx.store, { workerId: "w-2", tasks: ["lease"], limit: 1, now, leaseMs: LEASE_MS });
    assert.deepEqual(await claim(expiry - 1), [], "not claimable before the lease expires");
    const [again] = await claim(expiry);
    assert.ok(again);
    assert.equal(again.execution.leaseToken, fence.leaseToken + 1);
    assert.equal(again.execution.leaseOwner, "w-2");
    assert.equal(again.execution.startedAt, T0, "started_at keeps the first start");
    assert.equal(again.execution.attempt, 1);
    assert.deepEqual(
      again.steps.map((s) => s.name),
      ["a"],
      "recorded steps come back for replay",
    );
    const stale = checkpoint(
      fence,
      { transition: "complete", outputJson: '"stale"', stepsCompleted: 2 },
      { steps: [stepRecord(execution.id, "zombie")] },
    );
    assert.equal(await applyOne(ctx.store, stale), false);
    const fresh = { executionId: execution.id, leaseToken: again.execution.leaseToken };
    assert.equal((await ctx.store.getStepDetail(execution.id)).steps.length, 1, "a fenced-out checkpoint writes no step");
    assert.equal(await applyOne(ctx.store, checkpoint(fresh, { transition: "complete", outputJson: '"fresh"', stepsCompleted: 1 })), true);
    assert.equal((await ctx.store.getExecution(execution.id))?.outputJson, '"fresh"');
  });

  test("renewLeases: extends held leases and reports the ones lost", async () => {
    const a = await createRunning(ctx.store, { task: "ra" });
    const b = await createRunning(ctx.store, { task: "rb" });
    await ctx.store.cancelExecution(b.execution.id, T0 + 1);
    const held = await ctx.store.renewLeases(
      [a.fence, b.fence, { executionId: a.execution.id, leaseToken: a.fence.leaseToken + 1 }, { executionId: newId(), leaseToken: 1 }],
      T0 + 10_000,
      LEASE_MS,
    );
    assert.deepEqual([...held], [a.execution.id]);
    assert.equal((await ctx.store.getExecution(a.execution.id))?.runnableAt, T0 + 10_000 + LEASE_MS);
    assert.deepEqual(await claimRows(ctx.store, { workerId: "w", tasks: ["ra"], limit: 1, now: T0 + LEASE_MS, leaseMs: 1 }), []);
    assert.equal((await ctx.store.renewLeases([], T0, 1)).size, 0);
  });

  test("fencing after cancel: the holder's checkpoint is rejected and the row stays cancelled", async () => {
    const { execution, fence } = await createRunning(ctx.store);
    await ctx.store.cancelExecution(execution.id, T0 + 5);
    const done = checkpoint(
      fence,
      { transition: "complete", outputJson: "1", stepsCompleted: 1 },
      { steps: [stepRecord(execution.id, "s")] },
    );
    assert.equal(await applyOne(ctx.store, done), false);
    assert.equal(await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: "s", stepsCompleted: 0 })), false);
    const after = await ctx.store.getExecution(execution.id);
    assert.equal(after?.status, "cancelled");
    assert.equal(after?.outputJson, null);
    assert.equal(after?.runnableAt, null);
    assert.deepEqual((await ctx.store.getStepDetail(execution.id)).steps, []);
    assert.equal((await ctx.store.renewLeases([fence], T0 + 6, LEASE_MS)).size, 0);
  });

  test("applyCheckpoints: running progress, step upsert, attempts, and idempotent re-application", async () => {
    const { execution, fence } = await createRunning(ctx.store, { task: "cp" });
    const failure = { message: "flaky", step: "s1", name: "Error" };
    // A batch holds at most one checkpoint per execution (the group committer's rule): two writes, two batches.
    const writes = [
      checkpoint(
        fence,
        { transition: "progress", currentStep: "s1", stepsCompleted: 0 },
        {
          steps: [stepRecord(execution.id, "s1", { state: "retrying", resultJson: null, attempts: 1, wakeAt: T0 + 50, completedAt: null })],
          attempts: [
            { executionId: execution.id, step: "s1", attempt: 1, executionAttempt: 1, startedAt: T0, endedAt: T0 + 1, error: failure },
          ],
        },
      ),
      checkpoint(
        fence,
        { transition: "progress", currentStep: null, stepsCompleted: 1 },
        { now: T0 + 60, steps: [stepRecord(execution.id, "s1", { attempts: 2, resultJson: "[1,2]", completedAt: T0 + 60 })] },
      ),
    ];
    for (const write of writes) assert.deepEqual(await ctx.store.applyCheckpoints([write]), [true]);
    for (const write of writes) assert.deepEqual(await ctx.store.applyCheckpoints([write]), [true], "re-applying a write is harmless");
    const row = await ctx.store.getExecution(execution.id);
    assert.equal(row?.status, "running");
    assert.equal(row?.stepsCompleted, 1);
    assert.equal(row?.currentStep, null);
    assert.equal(row?.runnableAt, execution.runnableAt, "a progress checkpoint leaves the lease to the lease keeper");
    const detail = await ctx.store.getStepDetail(execution.id);
    assert.deepEqual(detail.steps, [stepRecord(execution.id, "s1", { attempts: 2, resultJson: "[1,2]", completedAt: T0 + 60 })]);
    assert.deepEqual(detail.attempts, [
      { executionId: execution.id, step: "s1", attempt: 1, executionAttempt: 1, startedAt: T0, endedAt: T0 + 1, error: failure },
    ]);
  });

  test("applyAndClaim: applies the batch and claims due rows in one call, oldest first, never a row of the batch", async () => {
    const a = await createRunning(ctx.store, { task: "fold" });
    const b = await create(ctx.store, { task: "fold", now: T0 + 1 });
    const c = await create(ctx.store, { task: "fold", now: T0 + 2 });
    // Past a's lease, so a claim of its own would take it back: the batch's rows must be left alone.
    const now = T0 + LEASE_MS + 10;
    const { results, claim } = await ctx.store.applyAndClaim(
      [checkpoint(a.fence, { transition: "complete", outputJson: '"done"', stepsCompleted: 0 }, { now })],
      { workerId: "folder", tasks: ["fold"], limit: 5, now, leaseMs: LEASE_MS },
    );
    assert.deepEqual(results, [true]);
    const { claimed } = claim;
    assert.deepEqual(
      claimed.map((x) => [x.execution.id, x.execution.status, x.execution.leaseOwner, x.execution.runnableAt, x.steps.length]),
      [
        [b.id, "running", "folder", now + LEASE_MS, 0],
        [c.id, "running", "folder", now + LEASE_MS, 0],
      ],
    );
    assert.equal((await ctx.store.getExecution(a.execution.id))?.status, "completed");
    assert.deepEqual(await ctx.store.getExecution(b.id), claimed[0]?.execution, "the returned row is the stored row");
  });

  test("applyCheckpoints: one batch mixes executions; a stale one is skipped alone", async () => {
    const a = await createRunning(ctx.store, { task: "ga" });
    const b = await createRunning(ctx.store, { task: "gb" });
    const c = await createRunning(ctx.store, { task: "gc" });
    const staleB = { executionId: b.execution.id, leaseToken: b.fence.leaseToken + 5 };
    const results = await ctx.store.applyCheckpoints([
      checkpoint(
        a.fence,
        { transition: "complete", outputJson: '{"a":1}', stepsCompleted: 1 },
        { steps: [stepRecord(a.execution.id, "x")] },
      ),
      checkpoint(staleB, { transition: "complete", outputJson: "2", stepsCompleted: 1 }, { steps: [stepRecord(b.execution.id, "x")] }),
      checkpoint(c.fence, {
        transition: "fail",
        error: { message: "bad", step: "y", code: "step_failed", name: "TypeError" },
        stepsCompleted: 3,
      }),
    ]);
    assert.deepEqual(results, [true, false, true]);
    const [ra, rb, rc] = await Promise.all([a, b, c].map((x) => ctx.store.getExecution(x.execution.id)));
    assert.deepEqual(
      [ra?.status, ra?.outputJson, ra?.completedAt, ra?.runnableAt, ra?.leaseOwner],
      ["completed", '{"a":1}', T0, null, null],
    );
    assert.equal(rb?.status, "running");
    assert.deepEqual((await ctx.store.getStepDetail(b.execution.id)).steps, []);
    assert.deepEqual(rc?.error, { message: "bad", step: "y", code: "step_failed", name: "TypeError" });
    assert.deepEqual([rc?.status, rc?.completedAt, rc?.runnableAt, rc?.stepsCompleted], ["failed", T0, null, 3]);
    assert.deepEqual(
      await ctx.store.applyCheckpoints([checkpoint(a.fence, { transition: "progress", currentStep: "z", stepsCompleted: 2 })]),
      [false],
      "terminal rows accept nothing",
    );
  });

  test("applyCheckpoints: batches of one kind or two, with failed attempts on some rows or none, write every part", async () => {
    const a = await createRunning(ctx.store, { task: "ka" });
    const b = await createRunning(ctx.store, { task: "kb" });
    const [ida, idb] = [a.execution.id, b.execution.id];
    const failure = { message: "flaky", step: "x", name: "Error" };
    const attempt = { executionId: ida, step: "x", attempt: 1, executionAttempt: 1, startedAt: T0, endedAt: T0 + 1, error: failure };
    const steps = await ctx.store.applyCheckpoints([
      checkpoint(
        a.fence,
        { transition: "progress", currentStep: "y", stepsCompleted: 1 },
        { steps: [stepRecord(ida, "x")], attempts: [attempt] },
      ),
      checkpoint(b.fence, { transition: "progress", currentStep: "y", stepsCompleted: 1 }, { steps: [stepRecord(idb, "x")] }),
    ]);
    assert.deepEqual(steps, [true, true]);
    const ends = await ctx.store.applyCheckpoints([
      checkpoint(a.fence, { transition: "complete", outputJson: '"done"', stepsCompleted: 2 }, { steps: [stepRecord(ida, "y")] }),
      checkpoint(b.fence, { transition: "progress", currentStep: "z", stepsCompleted: 2 }, { steps: [stepRecord(idb, "y")] }),
    ]);
    assert.deepEqual(ends, [true, true]);
    const [ra, rb] = await Promise.all([ctx.store.getExecution(ida), ctx.store.getExecution(idb)]);
    assert.deepEqual([ra?.status, ra?.outputJson, ra?.stepsCompleted], ["completed", '"done"', 2]);
    assert.deepEqual([rb?.status, rb?.currentStep, rb?.stepsCompleted], ["running", "z", 2]);
    const [da, db] = await Promise.all([ctx.store.getStepDetail(ida), ctx.store.getStepDetail(idb)]);
    assert.deepEqual([da.steps.map((step) => step.name), da.attempts], [["x", "y"], [attempt]]);
    assert.deepEqual([db.steps.map((step) => step.name), db.attempts], [["x", "y"], []]);
  });

  test("claim: plain rows alone, then a low-priority row after them and a high-priority one before", async () => {
    const task = `pr-${newId()}`;
    const insert = async (priority: number, now: number) => {
      const id = newId();
      await ctx.store.createExecution({ id, task, dataJson: "{}", idempotencyKey: null, now, priority });
      return id;
    };
    // One row per claim, so the order in which they are taken shows.
    const take = async (now: number, times = 1) => {
      const taken: string[] = [];
      for (let i = 0; i < times; i++) {
        const { claimed } = await ctx.store.claim({ workerId: "w", tasks: [task], limit: 1, now, leaseMs: LEASE_MS });
        taken.push(...claimed.map((c) => c.execution.id));
      }
      return taken;
    };
    const plain = await insert(0, T0);
    assert.deepEqual(await take(T0 + 1, 2), [plain], "no row has a priority");
    const low = await insert(-1, T0 + 2);
    const plainAgain = await insert(0, T0 + 3);
    assert.deepEqual(await take(T0 + 4, 2), [plainAgain, low], "a negative priority goes after the plain rows");
    const later = await insert(0, T0 + 5);
    const high = await insert(5, T0 + 6);
    assert.deepEqual(await take(T0 + 7, 2), [high, later], "a positive priority goes first");
  });

  test("timers: a sleeping execution is not claimable before wakeAt, claimable at it; nextWakeAt sees it", async () => {
    const { execution, fence } = await createRunning(ctx.store, { task: "sleepy" });
    const wakeAt = T0 + 5000;
    const sleep = stepRecord(execution.id, "nap", { kind: "sleep", state: "waiting", resultJson: null, wakeAt, completedAt: null });
    await applyOne(
      ctx.store,
      checkpoint(fence, { transition: "park", currentStep: "nap", waitingForEvent: null, wakeAt, stepsCompleted: 0 }, { steps: [sleep] }),
    );
    const row = await ctx.store.getExecution(execution.id);
    assert.deepEqual([row?.status, row?.currentStep, row?.runnableAt, row?.leaseOwner], ["waiting", "nap", wakeAt, null]);
    assert.equal(await ctx.store.nextWakeAt(["sleepy", "other"]), wakeAt);
    assert.equal(await ctx.store.nextWakeAt(["other"]), null);
    assert.equal(await ctx.store.nextWakeAt([]), null);
    const claim = (now: number) => claimRows(ctx.store, { workerId: "w", tasks: ["sleepy"], limit: 1, now, leaseMs: LEASE_MS });
    assert.deepEqual(await claim(wakeAt - 1), []);
    const [woken] = await claim(wakeAt);
    assert.equal(woken?.execution.status, "running");
    assert.equal(woken?.execution.leaseToken, fence.leaseToken + 1);
    assert.deepEqual(woken?.steps, [sleep]);
    assert.equal(await ctx.store.nextWakeAt(["sleepy"]), wakeAt + LEASE_MS, "a running row's lease expiry is its wake-up");
  });

  test("event wait with a timeout: claimable at the deadline, waitingForEvent kept for replay", async () => {
    const { fence } = await createRunning(ctx.store, { task: "ev" });
    await applyOne(
      ctx.store,
      checkpoint(fence, { transition: "park", currentStep: "approve", waitingForEvent: "approve", wakeAt: T0 + 100, stepsCompleted: 2 }),
    );
    const [claimed] = await claimRows(ctx.store, { workerId: "w", tasks: ["ev"], limit: 1, now: T0 + 100, leaseMs: LEASE_MS });
    assert.deepEqual(
      [claimed?.execution.status, claimed?.execution.waitingForEvent, claimed?.execution.stepsCompleted],
      ["running", "approve", 2],
    );
  });

  test("requeue: a graceful release keeps steps; a task-level retry sets aside only the escaped failure", async () => {
    const { execution, fence } = await createRunning(ctx.store, { task: "rq" });
    const ok = stepRecord(execution.id, "ok", { seq: 1 });
    const caught = stepRecord(execution.id, "caught", {
      seq: 2,
      state: "failed",
      resultJson: null,
      error: { message: "declined", step: "caught" },
    });
    const bad = stepRecord(execution.id, "bad", {
      seq: 3,
      state: "failed",
      resultJson: null,
      error: { message: "no", step: "bad" },
      attempts: 3,
    });
    const attempt = {
      executionId: execution.id,
      step: "bad",
      attempt: 1,
      executionAttempt: 1,
      startedAt: T0,
      endedAt: T0 + 1,
      error: { message: "no", step: "bad" },
    };
    await applyOne(
      ctx.store,
      checkpoint(fence, { transition: "release", runAt: T0, stepsCompleted: 3 }, { steps: [ok, caught, bad], attempts: [attempt] }),
    );
    let row = await ctx.store.getExecution(execution.id);
    assert.deepEqual([row?.status, row?.runnableAt, row?.leaseOwner, row?.attempt], ["pending", T0, null, 1]);
    assert.equal((await ctx.store.getStepDetail(execution.id)).steps.length, 3, "a plain release keeps every step");

    const [again] = await claimRows(ctx.store, { workerId: "w", tasks: ["rq"], limit: 1, now: T0 + 1, leaseMs: LEASE_MS });
    const fence2 = { executionId: execution.id, leaseToken: again!.execution.leaseToken };
    const discarded = { ...bad, state: "discarded" as const };
    await applyOne(
      ctx.store,
      checkpoint(fence2, { transition: "retry", runAt: T0 + 1000, attempt: 2, stepsCompleted: 2 }, { now: T0 + 2, steps: [discarded] }),
    );
    row = await ctx.store.getExecution(execution.id);
    assert.deepEqual([row?.status, row?.runnableAt, row?.attempt, row?.error, row?.currentStep], ["waiting", T0 + 1000, 2, null, null]);
    assert.equal(row?.stepsCompleted, 2, "steps_completed no longer counts the discarded failure");
    const detail = await ctx.store.getStepDetail(execution.id);
    assert.deepEqual(detail.steps, [ok, caught, discarded], "only the escaped failure is set aside; a caught failure stays recorded");
    assert.deepEqual(detail.attempts, [attempt], "attempt history stays");
    assert.deepEqual(
      await claimRows(ctx.store, { workerId: "w", tasks: ["rq"], limit: 1, now: T0 + 999, leaseMs: LEASE_MS }),
      [],
      "backoff holds",
    );
    const [third] = await claimRows(ctx.store, { workerId: "w", tasks: ["rq"], limit: 1, now: T0 + 1000, leaseMs: LEASE_MS });
    assert.equal(third?.execution.attempt, 2);
    assert.deepEqual(third?.steps, [ok, caught, discarded]);
  });
}
