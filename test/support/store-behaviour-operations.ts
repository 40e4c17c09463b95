/**
 * The stores' operations (operations.md §1-§2): workers' heartbeats and the live list, the task list with
 * counts, the timeline's data, resuming an execution in place and rerunning one with copied records.
 *
 * Long because it is a list of small cases, each run on both stores; the suite is split by area
 * across the store-behaviour-*.ts files.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AttemptRecord, ErrorInfo } from "../../src/core/types.js";
import { WORKER_ROW_RETENTION_MS, type WorkerBeat } from "../../src/store/operations.js";
import type { Notice, Store } from "../../src/store/store.js";
import {
  applyOne,
  checkpoint,
  claimRows,
  create,
  createRunning,
  createWaitingForEvent,
  eventWait,
  NoticeRecorder,
  newId,
  type SuiteContext,
  stepRecord,
  T0,
} from "./store-fixtures.js";

const LEASE = 30_000;

/** A running execution of `task` that started a child (step "kid") and parked until it ends. */
async function parentWaitingOnChild(store: Store, task: string) {
  const { execution, fence } = await createRunning(store, { task });
  const child = { id: newId(), task: `kid-${newId()}`, dataJson: "{}", idempotencyKey: null, now: T0 };
  const waits = [
    stepRecord(execution.id, "kid", { kind: "child", state: "waiting", resultJson: null, completedAt: null, childId: child.id }),
  ];
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  await applyOne(
    store,
    checkpoint(
      fence,
      { transition: "park", currentStep: "kid", waitingForEvent: null, wakeAt: null },
      { steps: waits, children: [{ ...child, parent: { id: execution.id, step: "kid", cancelWithParent: true } }], owner },
    ),
  );
  return { execution, child };
}

function beat(workerId: string, over: Partial<WorkerBeat> = {}): WorkerBeat {
  return {
    workerId,
    host: "host-a",
    pid: 4242,
    tasks: ["alpha", "beta"],
    concurrency: 8,
    running: 0,
    leaseMs: LEASE,
    startedAt: T0,
    now: T0,
    ...over,
  };
}

function attempt(executionId: string, step: string, n: number, executionAttempt: number, message: string): AttemptRecord {
  const error: ErrorInfo = { message, step, name: "Error", stack: `Error: ${message}\n    at somewhere` };
  return { executionId, step, attempt: n, executionAttempt, startedAt: T0 + n, endedAt: T0 + n + 1, error };
}

/** Runs a fresh execution to `failed` with records a (completed), b (failed, caught), c (failed: the error's step). */
async function failedWithRecords(ctx: SuiteContext, task: string) {
  const { execution, fence } = await createRunning(ctx.store, { task });
  const id = execution.id;
  const error: ErrorInfo = { message: "c broke", step: "c", code: "step_failed" };
  const steps = [
    stepRecord(id, "a", { seq: 1, executionAttempt: 1, attemptStartedAt: T0 + 1 }),
    stepRecord(id, "b", { seq: 2, state: "failed", resultJson: null, error: { message: "b broke", step: "b" } }),
    stepRecord(id, "c", { seq: 3, state: "failed", resultJson: null, attempts: 2, error }),
  ];
  const attempts = [attempt(id, "b", 1, 1, "b broke"), attempt(id, "c", 1, 1, "c once"), attempt(id, "c", 2, 1, "c twice")];
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  assert.equal(
    await applyOne(ctx.store, checkpoint(fence, { transition: "fail", error, stepsCompleted: 3 }, { steps, attempts, now: T0 + 9, owner })),
    true,
  );
  return id;
}

export function operationsBehaviour(ctx: SuiteContext): void {
  test("heartbeat: a worker is listed within two lease periods, refreshed in place, dropped when gone or removed", async () => {
    await ctx.store.heartbeat(beat("w-1"));
    await ctx.store.heartbeat(beat("w-2", { host: "host-b", tasks: ["beta"] }));
    assert.deepEqual(
      (await ctx.store.listWorkers(T0 + 1)).map((w) => w.workerId),
      ["w-1", "w-2"],
    );
    await ctx.store.heartbeat(beat("w-1", { running: 3, now: T0 + 40_000, startedAt: T0 + 999 }));
    const [one] = await ctx.store.listWorkers(T0 + 40_001);
    assert.deepEqual(one, {
      workerId: "w-1",
      host: "host-a",
      pid: 4242,
      tasks: ["alpha", "beta"],
      concurrency: 8,
      running: 3,
      leaseMs: LEASE,
      startedAt: T0,
      lastSeenAt: T0 + 40_000,
    });
    // w-2 was last heard from at T0: gone after two lease periods.
    assert.deepEqual(
      (await ctx.store.listWorkers(T0 + 2 * LEASE + 1)).map((w) => w.workerId),
      ["w-1"],
    );
    await ctx.store.removeWorker("w-1");
    assert.deepEqual(await ctx.store.listWorkers(T0 + 2 * LEASE + 1), []);
  });

  test("heartbeat: rows of workers not heard from for a day are deleted by any worker's heartbeat", async () => {
    await ctx.store.heartbeat(beat("old"));
    const later = T0 + WORKER_ROW_RETENTION_MS;
    await ctx.store.heartbeat(beat("new", { now: later, startedAt: later }));
    const listed = async () => (await ctx.store.listWorkers(T0)).map((w) => w.workerId);
    assert.deepEqual(await listed(), ["new", "old"], "a row exactly a day old is kept");
    await ctx.store.heartbeat(beat("new", { now: later + 1, startedAt: later }));
    assert.deepEqual(await listed(), ["new"], "older than a day: deleted");
  });

  test("listTasks: tasks with executions (counts by status) and tasks live workers serve, with schemas and last seen", async () => {
    await ctx.store.registerTasks("w-1", [{ name: "alpha", inputSchemaJson: '{"type":"object"}', options: {} }], T0);
    await ctx.store.heartbeat(beat("w-1", { tasks: ["alpha"], now: T0 + 5 }));
    await ctx.store.heartbeat(beat("w-dead", { tasks: ["ghost", "gamma"], now: T0 - 3 * LEASE }));
    const running = await createRunning(ctx.store, { task: "gamma" });
    await create(ctx.store, { task: "gamma" });
    await applyOne(ctx.store, checkpoint(running.fence, { transition: "complete", outputJson: "1" }, { now: T0 + 1 }));
    await create(ctx.store, { task: "gamma" });
    const tasks = await ctx.store.listTasks(T0 + 10);
    assert.deepEqual(
      tasks.map((t) => t.name),
      ["alpha", "gamma"],
      "a task only a dead worker serves, without executions, is not listed",
    );
    const [alpha, gamma] = tasks;
    assert.deepEqual(alpha, {
      name: "alpha",
      inputSchemaJson: '{"type":"object"}',
      workers: 1,
      lastSeenAt: T0 + 5,
      counts: { pending: 0, running: 0, waiting: 0, completed: 0, failed: 0, cancelled: 0 },
    });
    assert.deepEqual(gamma, {
      name: "gamma",
      inputSchemaJson: null,
      workers: 0,
      lastSeenAt: T0 - 3 * LEASE,
      counts: { pending: 2, running: 0, waiting: 0, completed: 1, failed: 0, cancelled: 0 },
    });
  });

  test("getTimeline: the execution, its records in order with the timeline columns, attempts, started children; null when unknown", async () => {
    assert.equal(await ctx.store.getTimeline(newId()), null);
    const task = `tl-${newId()}`;
    const { execution, fence } = await createRunning(ctx.store, { task });
    const id = execution.id;
    const childTask = `child-${newId()}`;
    const child = { id: newId(), task: childTask, dataJson: "{}", idempotencyKey: null, now: T0 };
    const steps = [
      stepRecord(id, "first", { seq: 1, executionAttempt: 1, attemptStartedAt: T0 + 2, attempts: 2 }),
      stepRecord(id, "spawn", { seq: 2, kind: "child", resultJson: null, childId: child.id }),
      { ...eventWait(id, "approval", '{"type":"object"}'), seq: 3 },
    ];
    const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
    const cp = checkpoint(
      fence,
      { transition: "park", currentStep: "approval", waitingForEvent: "approval", wakeAt: null },
      { steps, attempts: [attempt(id, "first", 1, 1, "flake")], children: [child], owner },
    );
    assert.equal(await applyOne(ctx.store, cp), true);
    const data = await ctx.store.getTimeline(id);
    assert.ok(data);
    assert.equal(data.execution.status, "waiting");
    assert.deepEqual(
      data.steps.map((s) => [s.name, s.executionAttempt, s.attemptStartedAt]),
      [
        ["first", 1, T0 + 2],
        ["spawn", undefined, undefined],
        ["approval", undefined, undefined],
      ],
    );
    assert.deepEqual(
      data.attempts.map((a) => [a.step, a.attempt, a.error.stack]),
      [["first", 1, "Error: flake\n    at somewhere"]],
    );
    assert.deepEqual([...data.children], [[child.id, { status: "pending", outputJson: null }]]);
  });

  test("resumeExecution: failed → pending with attempt + 1; the error's failed step discarded, the rest kept; notices", async () => {
    const task = `resume-${newId()}`;
    const id = await failedWithRecords(ctx, task);
    const recorder = new NoticeRecorder(ctx.store);
    const outcome = await ctx.store.resumeExecution(id, T0 + 20);
    recorder.unsubscribe();
    assert.equal(outcome.outcome, "resumed");
    const execution = await ctx.store.getExecution(id);
    assert.equal(execution?.status, "pending");
    assert.equal(execution?.attempt, 2);
    assert.equal(execution?.error, null);
    assert.equal(execution?.runnableAt, T0 + 20);
    const detail = await ctx.store.getStepDetail(id);
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.state]),
      [
        ["a", "completed"],
        ["b", "failed"],
        ["c", "discarded"],
      ],
      "only the failure that ended it is set aside; a failure the workflow caught stays",
    );
    assert.equal(detail.attempts.length, 3, "every failed attempt is kept");
    assert.deepEqual(
      recorder.notices.filter((n) => n.kind !== "terminal"),
      [
        { kind: "resumed", executionId: id },
        { kind: "runnable", task, at: T0 + 20 },
      ] satisfies Notice[],
    );
    const claimed = await ctx.store.claim({ workerId: "w", tasks: [task], limit: 1, now: T0 + 21, leaseMs: LEASE });
    assert.equal(claimed.claimed[0]?.execution.id, id, "a resumed execution is claimed like new work");
    assert.equal(claimed.claimed[0]?.execution.attempt, 2);
  });

  test("resumeExecution: a cancelled one resumes with its open waits; refused for other statuses and unknown ids", async () => {
    const waiting = await createWaitingForEvent(ctx.store, "go", { task: `rc-${newId()}` });
    await ctx.store.cancelExecution(waiting.id, T0 + 5);
    assert.equal((await ctx.store.resumeExecution(waiting.id, T0 + 6)).outcome, "resumed");
    assert.deepEqual(
      (await ctx.store.getStepDetail(waiting.id)).steps.map((s) => s.state),
      ["waiting"],
      "the wait a cancel interrupted is still open",
    );
    const pending = await create(ctx.store, { task: `rc-${newId()}` });
    const refused = await ctx.store.resumeExecution(pending.id, T0 + 7);
    assert.equal(refused.outcome, "not_retryable");
    assert.equal(refused.outcome === "not_retryable" && refused.execution.status, "pending");
    assert.deepEqual(await ctx.store.resumeExecution(newId(), T0), { outcome: "not_found" });
  });

  test("resumeExecution: child records the cancellation failed are discarded so the children start again", async () => {
    const task = `rp-${newId()}`;
    const { execution, child } = await parentWaitingOnChild(ctx.store, task);
    await ctx.store.cancelExecution(execution.id, T0 + 8);
    assert.equal((await ctx.store.getExecution(child.id))?.status, "cancelled");
    assert.deepEqual(
      (await ctx.store.getStepDetail(execution.id)).steps.map((s) => [s.state, s.error?.code]),
      [["failed", "child_cancelled"]],
    );
    await ctx.store.resumeExecution(execution.id, T0 + 9);
    assert.deepEqual(
      (await ctx.store.getStepDetail(execution.id)).steps.map((s) => s.state),
      ["discarded"],
    );
  });

  test("a child's end answers its parent's step with its output or its failure, and wakes the parent", async () => {
    for (const end of ["complete", "fail"] as const) {
      const task = `cp-${newId()}`;
      const { execution, child } = await parentWaitingOnChild(ctx.store, task);
      const { claimed } = await ctx.store.claim({ workerId: "w", tasks: [child.task], limit: 1, now: T0 + 2, leaseMs: LEASE });
      const childFence = { executionId: child.id, leaseToken: claimed[0]?.execution.leaseToken ?? -1 };
      const childOwner = { task: child.task, parentId: execution.id, parentStep: "kid", concurrencyKey: null, concurrencyLimit: null };
      const patch =
        end === "complete"
          ? { transition: "complete" as const, outputJson: '{"n":42}' }
          : { transition: "fail" as const, error: { message: "nope", step: null } };
      assert.equal(await applyOne(ctx.store, checkpoint(childFence, patch, { now: T0 + 3, owner: childOwner })), true);
      const [step] = (await ctx.store.getStepDetail(execution.id)).steps;
      if (end === "complete") assert.deepEqual([step?.state, step?.resultJson], ["completed", '{"n":42}']);
      else {
        assert.deepEqual([step?.state, step?.resultJson, step?.error?.code], ["failed", null, "child_failed"]);
        assert.match(step?.error?.message ?? "", /nope/);
      }
      assert.equal((await ctx.store.getExecution(execution.id))?.status, "pending", `${end}: the parent is due again`);
    }
  });

  test("a child retried after its parent started another in its place answers nothing: the parent waits for its own", async () => {
    const task = `cr-${newId()}`;
    const { execution, child: old } = await parentWaitingOnChild(ctx.store, task);
    await ctx.store.cancelExecution(execution.id, T0 + 8);
    await ctx.store.resumeExecution(execution.id, T0 + 9);
    // The parent's next run starts a new child for the same step.
    const [run] = await claimRows(ctx.store, { workerId: "w", tasks: [task], limit: 1, now: T0 + 10, leaseMs: LEASE });
    assert.equal(run?.execution.id, execution.id);
    const fence = { executionId: execution.id, leaseToken: run?.execution.leaseToken ?? -1 };
    const replacement = { id: newId(), task: old.task, dataJson: "{}", idempotencyKey: null, now: T0 + 10 };
    const wait = stepRecord(execution.id, "kid", {
      kind: "child",
      state: "waiting",
      resultJson: null,
      completedAt: null,
      childId: replacement.id,
    });
    const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
    const park = { transition: "park" as const, currentStep: "kid", waitingForEvent: null, wakeAt: null };
    const children = [{ ...replacement, parent: { id: execution.id, step: "kid", cancelWithParent: true } }];
    assert.equal(await applyOne(ctx.store, checkpoint(fence, park, { steps: [wait], children, owner, now: T0 + 11 })), true);
    // The old child is retried and completes.
    await ctx.store.resumeExecution(old.id, T0 + 12);
    const claimed = await claimRows(ctx.store, { workerId: "w", tasks: [old.task], limit: 2, now: T0 + 13, leaseMs: LEASE });
    const oldRunning = claimed.find((c) => c.execution.id === old.id);
    assert.ok(oldRunning, "the retried child is claimed (with the new one)");
    const childOwner = { task: old.task, parentId: execution.id, parentStep: "kid", concurrencyKey: null, concurrencyLimit: null };
    const done = { transition: "complete" as const, outputJson: '"old"' };
    assert.equal(
      await applyOne(
        ctx.store,
        checkpoint({ executionId: old.id, leaseToken: oldRunning.execution.leaseToken }, done, { now: T0 + 14, owner: childOwner }),
      ),
      true,
    );
    const [step] = (await ctx.store.getStepDetail(execution.id)).steps;
    assert.deepEqual([step?.state, step?.childId, step?.resultJson], ["waiting", replacement.id, null], "still waiting for the new child");
    assert.equal((await ctx.store.getExecution(execution.id))?.status, "waiting");
  });

  test("resumeExecution: two instances racing resume it exactly once", async () => {
    const id = await failedWithRecords(ctx, `race-${newId()}`);
    const peer = await ctx.peer();
    const outcomes = await Promise.all([ctx.store.resumeExecution(id, T0 + 30), peer.resumeExecution(id, T0 + 30)]);
    assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ["not_retryable", "resumed"]);
    assert.equal((await ctx.store.getExecution(id))?.attempt, 2);
  });

  test("rerunExecution: from a step copies the records reached before it (with their attempts), marked, times kept", async () => {
    const task = `rr-${newId()}`;
    const source = await failedWithRecords(ctx, task);
    const input = { id: newId(), task, dataJson: '{"n":2}', idempotencyKey: null, now: T0 + 50, rerunOf: source };
    const recorder = new NoticeRecorder(ctx.store);
    const outcome = await ctx.store.rerunExecution(input, "c");
    recorder.unsubscribe();
    assert.equal(outcome.outcome, "created");
    assert.equal(outcome.outcome === "created" && outcome.result.created, true);
    const created = await ctx.store.getExecution(input.id);
    assert.equal(created?.rerunOf, source);
    assert.equal(created?.status, "pending");
    assert.deepEqual(recorder.notices, [{ kind: "runnable", task, at: T0 + 50 }]);
    const original = await ctx.store.getTimeline(source);
    const copy = await ctx.store.getTimeline(input.id);
    assert.ok(original && copy);
    // Their replay order is kept, and placed before the rerun's first run (lease token 1).
    const token = (await ctx.store.getExecution(source))?.leaseToken ?? 0;
    const shifted = (n: number | null) => (n === null ? null : n - token - 1);
    assert.deepEqual(
      copy.steps,
      original.steps
        .filter((s) => s.seq < 3)
        .map((s) => ({ ...s, executionId: input.id, copiedFrom: source, settledIn: shifted(s.settledIn) })),
      "a and b, copied as they were",
    );
    assert.ok(copy.steps.every((s) => s.settledIn === null || s.settledIn < 1));
    assert.deepEqual(
      copy.attempts,
      original.attempts.filter((a) => a.step === "b").map((a) => ({ ...a, executionId: input.id })),
    );
    // The rerun has never started, yet its first claim must hand its replay the copies (or a and b run again).
    const [claimed] = await claimRows(ctx.store, { workerId: "w-rerun", tasks: [task], limit: 1, now: T0 + 60, leaseMs: LEASE });
    assert.equal(claimed?.execution.id, input.id);
    assert.deepEqual(
      claimed?.steps.map((s) => [s.name, s.state]),
      [
        ["a", "completed"],
        ["b", "failed"],
      ],
    );
  });

  test("rerunExecution: from the step the source is executing now (no record yet) copies every record", async () => {
    const task = `rn-${newId()}`;
    const { execution, fence } = await createRunning(ctx.store, { task });
    const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
    const steps = [stepRecord(execution.id, "a", { seq: 1 }), stepRecord(execution.id, "b", { seq: 2 })];
    await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: "c" }, { steps, owner }));
    const input = { id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 + 5, rerunOf: execution.id };
    assert.equal((await ctx.store.rerunExecution(input, "c")).outcome, "created");
    assert.deepEqual(
      (await ctx.store.getStepDetail(input.id)).steps.map((s) => [s.name, s.copiedFrom]),
      [
        ["a", execution.id],
        ["b", execution.id],
      ],
    );
    const copyOfB = { ...input, id: newId() };
    assert.equal((await ctx.store.rerunExecution(copyOfB, "b")).outcome, "created", "a step with a record: its own order");
    assert.deepEqual(
      (await ctx.store.getStepDetail(copyOfB.id)).steps.map((s) => s.name),
      ["a"],
    );
  });

  test("rerunExecution: from scratch copies nothing; an unknown step creates nothing; a held key returns its holder", async () => {
    const task = `rs-${newId()}`;
    const source = await failedWithRecords(ctx, task);
    const fresh = { id: newId(), task, dataJson: "{}", idempotencyKey: "rerun-key", now: T0 + 60, rerunOf: source };
    const scratch = await ctx.store.rerunExecution(fresh, null);
    assert.equal(scratch.outcome === "created" && scratch.result.created, true);
    assert.deepEqual((await ctx.store.getStepDetail(fresh.id)).steps, []);

    const unknownId = newId();
    const unknown = await ctx.store.rerunExecution({ ...fresh, id: unknownId, idempotencyKey: null }, "no-such-step");
    assert.deepEqual(unknown, { outcome: "unknown_step" });
    assert.equal(await ctx.store.getExecution(unknownId), null);
    // A source gone (pruned since the caller read it): nothing is created, from scratch or from a step.
    for (const from of [null, "c"]) {
      const gone = await ctx.store.rerunExecution({ ...fresh, id: unknownId, idempotencyKey: null, rerunOf: newId() }, from);
      assert.deepEqual(gone, { outcome: "not_found" });
      assert.equal(await ctx.store.getExecution(unknownId), null);
    }

    const again = await ctx.store.rerunExecution({ ...fresh, id: newId() }, "c");
    assert.equal(again.outcome, "created");
    assert.equal(again.outcome === "created" && again.result.created, false);
    assert.equal(again.outcome === "created" && again.result.execution.id, fresh.id);
    assert.deepEqual((await ctx.store.getStepDetail(fresh.id)).steps, [], "nothing copied into the key's holder");
  });
}
