/**
 * Event delivery (outcomes, validation, races), step detail, and change notices.
 *
 * Long because it is a list of small cases, each run on both stores; the suite is split by area
 * across the store-behaviour-*.ts files.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Notice } from "../../src/store/store.js";
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
  type SuiteContext,
  stepRecord,
  T0,
} from "./store-fixtures.js";

export function eventBehaviour(ctx: SuiteContext): void {
  test("event wait without a deadline is never claimable until the event is delivered", async () => {
    const execution = await createWaitingForEvent(ctx.store, "approval", { task: "ev" });
    const row = await ctx.store.getExecution(execution.id);
    assert.deepEqual([row?.status, row?.waitingForEvent, row?.currentStep, row?.runnableAt], ["waiting", "approval", "approval", null]);
    assert.deepEqual(await claimRows(ctx.store, { workerId: "w", tasks: ["ev"], limit: 5, now: T0 + 1e12, leaseMs: 1 }), []);
    assert.equal(await ctx.store.nextWakeAt(["ev"]), null);

    const outcome = await ctx.store.deliverEvent({
      executionId: execution.id,
      eventName: "approval",
      payloadJson: '{ "ok": true }',
      now: T0 + 40,
    });
    assert.deepEqual(outcome, { outcome: "delivered", task: "ev" });
    const woken = await ctx.store.getExecution(execution.id);
    assert.deepEqual(
      [woken?.status, woken?.runnableAt, woken?.waitingForEvent, woken?.currentStep, woken?.stepsCompleted, woken?.updatedAt],
      ["pending", T0 + 40, null, null, 1, T0 + 40],
    );
    const [claimed] = await claimRows(ctx.store, { workerId: "w", tasks: ["ev"], limit: 5, now: T0 + 40, leaseMs: LEASE_MS });
    const step = claimed?.steps.find((s) => s.name === "approval");
    assert.deepEqual([step?.state, step?.resultJson, step?.completedAt], ["completed", '{ "ok": true }', T0 + 40]);
    assert.equal(step?.settledIn, claimed?.execution.leaseToken, "first seen by the run that claimed after the delivery");
    assert.equal(step?.settledIn, (row?.leaseToken ?? 0) + 1);
  });

  test("eager resume: a delivery with claimFor leaves the execution running under a new lease, with its steps, and no notice", async () => {
    const execution = await createWaitingForEvent(ctx.store, "approval", { task: "ev-eager" });
    const other = await createWaitingForEvent(ctx.store, "approval", { task: "ev-eager" });
    const recorder = new NoticeRecorder(ctx.store);
    try {
      const before = (await ctx.store.getExecution(execution.id))?.leaseToken ?? -1;
      const claimFor = { workerId: "resumer", leaseMs: LEASE_MS, tasks: ["other", "ev-eager"] };
      const outcome = await ctx.store.deliverEvent({
        executionId: execution.id,
        eventName: "approval",
        payloadJson: "7",
        now: T0 + 50,
        claimFor,
      });
      assert.equal(outcome.outcome, "delivered");
      const claimed = outcome.outcome === "delivered" ? outcome.claimed : undefined;
      assert.ok(claimed, "claimed in the delivery");
      assert.deepEqual(
        [claimed.execution.status, claimed.execution.leaseOwner, claimed.execution.leaseToken, claimed.execution.runnableAt],
        ["running", "resumer", before + 1, T0 + 50 + LEASE_MS],
      );
      assert.deepEqual(
        [claimed.execution.waitingForEvent, claimed.execution.currentStep, claimed.execution.stepsCompleted],
        [null, null, 1],
      );
      const step = claimed.steps.find((s) => s.name === "approval");
      assert.deepEqual([step?.state, step?.resultJson, step?.completedAt, step?.settledIn], ["completed", "7", T0 + 50, before + 1]);
      const stored = (await ctx.store.getStepDetail(execution.id)).steps.find((s) => s.name === "approval");
      assert.equal(stored?.settledIn, before + 1, "the stored record says the same");
      assert.deepEqual(await ctx.store.getExecution(execution.id), claimed.execution, "the returned row is the stored row");
      assert.deepEqual(await claimRows(ctx.store, { workerId: "w", tasks: ["ev-eager"], limit: 5, now: T0 + 50, leaseMs: 1 }), []);
      // A worker that does not run the task only delivers: the execution is pending for its workers.
      const plain = await ctx.store.deliverEvent({
        executionId: other.id,
        eventName: "approval",
        payloadJson: "8",
        now: T0 + 60,
        claimFor: { ...claimFor, tasks: ["other"] },
      });
      assert.deepEqual(plain, { outcome: "delivered", task: "ev-eager" });
      assert.equal((await ctx.store.getExecution(other.id))?.status, "pending");
      const runnable = recorder.notices.filter((n: Notice) => n.kind === "runnable");
      assert.deepEqual(runnable, [{ kind: "runnable", task: "ev-eager", at: T0 + 60 }], "only the plain delivery announces runnable work");
    } finally {
      recorder.unsubscribe();
    }
  });

  test("eager resume with finishIfToken: ends the execution in the delivery only when the claim's token is the expected one", async () => {
    const execution = await createWaitingForEvent(ctx.store, "approval", { task: "ev-finish" });
    const stale = await createWaitingForEvent(ctx.store, "approval", { task: "ev-finish" });
    const token = (await ctx.store.getExecution(execution.id))?.leaseToken ?? -1;
    const claimFor = { workerId: "resumer", leaseMs: LEASE_MS, tasks: ["ev-finish"] };
    const finished = { transition: "complete" as const, outputJson: '"done"', stepsCompleted: 1, at: T0 + 51 };
    const before = await ctx.store.countByStatus();
    const recorder = new NoticeRecorder(ctx.store);
    try {
      const outcome = await ctx.store.deliverEvent({
        executionId: execution.id,
        eventName: "approval",
        payloadJson: "7",
        now: T0 + 50,
        claimFor,
        finishIfToken: { leaseToken: token + 1, finished },
      });
      assert.equal(outcome.outcome === "delivered" && outcome.finished, true, "finished in the delivery");
      const row = await ctx.store.getExecution(execution.id);
      assert.deepEqual(
        [
          row?.status,
          row?.outputJson,
          row?.completedAt,
          row?.updatedAt,
          row?.leaseOwner,
          row?.runnableAt,
          row?.stepsCompleted,
          row?.leaseToken,
        ],
        ["completed", '"done"', T0 + 51, T0 + 51, null, null, 1, token + 1],
      );
      const detail = await ctx.store.getStepDetail(execution.id);
      const step = detail.steps.find((st) => st.name === "approval");
      assert.deepEqual([step?.state, step?.resultJson], ["completed", "7"]);
      // Another claim happened since the caller parked it (its token moved on): delivered and claimed, not ended.
      const staleToken = (await ctx.store.getExecution(stale.id))?.leaseToken ?? -1;
      const second = await ctx.store.deliverEvent({
        executionId: stale.id,
        eventName: "approval",
        payloadJson: "8",
        now: T0 + 60,
        claimFor,
        finishIfToken: { leaseToken: staleToken + 5, finished: { ...finished, at: T0 + 61 } },
      });
      assert.equal(second.outcome, "delivered");
      assert.equal(second.outcome === "delivered" && second.finished === true, false);
      assert.equal(second.outcome === "delivered" ? second.claimed?.execution.status : null, "running");
      assert.equal((await ctx.store.getExecution(stale.id))?.status, "running");
      const after = await ctx.store.countByStatus();
      assert.deepEqual([after.waiting - before.waiting, after.completed - before.completed, after.running - before.running], [-2, 1, 1]);
      assert.deepEqual(
        recorder.notices.filter((n: Notice) => n.kind === "terminal"),
        [{ kind: "terminal", executionId: execution.id, status: "completed" }],
      );
    } finally {
      recorder.unsubscribe();
    }
  });

  test("deliverEvent: not_found, then not_waiting before the wait, for another name, after delivery, when terminal", async () => {
    const deliver = (executionId: string, eventName = "go") =>
      ctx.store.deliverEvent({ executionId, eventName, payloadJson: "1", now: T0 + 1 });
    assert.deepEqual(await deliver(newId()), { outcome: "not_found" });
    const pending = await create(ctx.store, { task: "p" });
    assert.deepEqual(await deliver(pending.id), { outcome: "not_waiting", reason: "no_wait" });
    const running = await createRunning(ctx.store, { task: "r" });
    await applyOne(ctx.store, checkpoint(running.fence, { transition: "progress", currentStep: "go", stepsCompleted: 0 }, { steps: [] }));
    assert.deepEqual(await deliver(running.execution.id), { outcome: "not_waiting", reason: "no_wait" }, "running, not yet at the wait");
    // A sleeping execution is `waiting` but has no event step of that name.
    const sleeping = await createRunning(ctx.store, { task: "s" });
    const nap = stepRecord(sleeping.execution.id, "go", {
      kind: "sleep",
      state: "waiting",
      resultJson: null,
      wakeAt: T0 + 9,
      completedAt: null,
    });
    await applyOne(
      ctx.store,
      checkpoint(
        sleeping.fence,
        { transition: "park", currentStep: "go", waitingForEvent: null, wakeAt: T0 + 9, stepsCompleted: 0 },
        { steps: [nap] },
      ),
    );
    assert.deepEqual(await deliver(sleeping.execution.id), { outcome: "not_waiting", reason: "no_wait" }, "a sleep is not an event wait");

    const waiting = await createWaitingForEvent(ctx.store, "go", { task: "w" });
    assert.deepEqual(await deliver(waiting.id, "other"), { outcome: "not_waiting", reason: "no_wait" });
    assert.deepEqual(await deliver(waiting.id), { outcome: "delivered", task: "w" });
    assert.deepEqual(await deliver(waiting.id), { outcome: "not_waiting", reason: "no_wait" }, "already delivered");
    assert.equal((await ctx.store.getExecution(waiting.id))?.stepsCompleted, 1);

    const cancelled = await createWaitingForEvent(ctx.store, "go", { task: "c" });
    await ctx.store.cancelExecution(cancelled.id, T0 + 2);
    assert.deepEqual(
      await deliver(cancelled.id),
      { outcome: "not_waiting", reason: "ended" },
      "a late event never revives a terminal execution",
    );
    assert.equal((await ctx.store.getExecution(cancelled.id))?.status, "cancelled");
  });

  test("deliverEvent: a wait whose timeout the worker recorded (failed) is timed_out, never buffered, whether or not the task buffers", async () => {
    await ctx.store.registerTasks("w", [{ name: "to-buf", inputSchemaJson: null, options: { bufferedEvents: true } }], T0);
    for (const task of ["to-plain", "to-buf"]) {
      const running = await createRunning(ctx.store, { task });
      const timedOut = stepRecord(running.execution.id, "go", {
        kind: "event",
        state: "failed",
        resultJson: null,
        error: { message: 'Timed out waiting for event "go"', step: "go", code: "event_timeout" },
        attempts: 0,
      });
      await applyOne(
        ctx.store,
        checkpoint(running.fence, { transition: "progress", currentStep: "next", stepsCompleted: 1 }, { steps: [timedOut] }),
      );
      const outcome = await ctx.store.deliverEvent({ executionId: running.execution.id, eventName: "go", payloadJson: "1", now: T0 + 1 });
      assert.deepEqual(outcome, { outcome: "not_waiting", reason: "timed_out" }, task);
      const row = await ctx.store.getExecution(running.execution.id);
      assert.deepEqual([row?.status, row?.bufferedEvents], ["running", 0], `${task}: nothing buffered`);
    }
  });

  test("deliverEvent: a row due at its task deadline (no open wait or backoff due by then) is refused as deadline; one due for a sleep is not", async () => {
    // The worker parks at the earliest of its waits' times and its deadline (execution-runner.ts, wakeBy).
    const park = async (task: string, wakeAt: number, sleepWake: number | null) => {
      const { execution, fence } = await createRunning(ctx.store, { task });
      const steps = [eventWait(execution.id, "go", null)];
      if (sleepWake !== null) {
        steps.push(
          stepRecord(execution.id, "nap", { kind: "sleep", state: "waiting", resultJson: null, wakeAt: sleepWake, completedAt: null }),
        );
      }
      const patch = { transition: "park" as const, currentStep: "go", waitingForEvent: "go", wakeAt, stepsCompleted: 0 };
      assert.equal(await applyOne(ctx.store, checkpoint(fence, patch, { steps })), true);
      return execution.id;
    };
    const deliver = (executionId: string, now: number) => ctx.store.deliverEvent({ executionId, eventName: "go", payloadJson: "1", now });

    const timedOut = await park("dl-deadline", T0 + 20, null);
    assert.deepEqual(await deliver(timedOut, T0 + 20), { outcome: "not_waiting", reason: "deadline" });
    const kept = await ctx.store.getExecution(timedOut);
    assert.deepEqual([kept?.status, kept?.stepsCompleted], ["waiting", 0], "nothing written");
    assert.equal((await ctx.store.getStepDetail(timedOut)).steps.find((st) => st.name === "go")?.state, "waiting");

    const beside = await park("dl-sleep-later", T0 + 20, T0 + 50);
    assert.deepEqual(await deliver(beside, T0 + 21), { outcome: "not_waiting", reason: "deadline" }, "the sleep was not due yet");

    const early = await park("dl-early", T0 + 20, null);
    assert.deepEqual(await deliver(early, T0 + 19), { outcome: "delivered", task: "dl-early" }, "before the deadline");

    const sleeper = await park("dl-sleep", T0 + 20, T0 + 20);
    assert.deepEqual(await deliver(sleeper, T0 + 21), { outcome: "delivered", task: "dl-sleep" }, "woken by its sleep");
  });

  test("deliverEvent: the wait's schema is checked through validate; a refusal writes nothing", async () => {
    const schema = '{"type":"object","required":["amount"]}';
    const execution = await createWaitingForEvent(ctx.store, "pay", { task: "v", schemaJson: schema });
    const seen: [string, string][] = [];
    const validate = (schemaJson: string, payloadJson: string) => {
      seen.push([schemaJson, payloadJson]);
      return payloadJson.includes("amount") ? null : "amount is required";
    };
    const refused = await ctx.store.deliverEvent({ executionId: execution.id, eventName: "pay", payloadJson: "{}", now: T0 + 1, validate });
    assert.deepEqual(refused, { outcome: "invalid", message: "amount is required" });
    assert.deepEqual(seen, [[schema, "{}"]]);
    const still = await ctx.store.getExecution(execution.id);
    assert.deepEqual([still?.status, still?.waitingForEvent, still?.stepsCompleted], ["waiting", "pay", 0]);
    assert.equal((await ctx.store.getStepDetail(execution.id)).steps[0]?.state, "waiting");

    assert.deepEqual(await ctx.store.deliverEvent({ executionId: execution.id, eventName: "nope", payloadJson: "{}", now: T0, validate }), {
      outcome: "not_waiting",
      reason: "no_wait",
    });
    assert.equal(seen.length, 1, "validation runs only after the wait is found");
    const accepted = await ctx.store.deliverEvent({
      executionId: execution.id,
      eventName: "pay",
      payloadJson: '{"amount":3}',
      now: T0 + 2,
      validate,
    });
    assert.equal(accepted.outcome, "delivered");

    const noSchema = await createWaitingForEvent(ctx.store, "free", { task: "v2" });
    const calls = seen.length;
    assert.equal(
      (await ctx.store.deliverEvent({ executionId: noSchema.id, eventName: "free", payloadJson: "{}", now: T0, validate })).outcome,
      "delivered",
    );
    assert.equal(seen.length, calls, "no schema, no validation");
  });

  test("deliverEvent: two instances racing for one wait, exactly one delivers", async () => {
    const peer = await ctx.peer();
    const execution = await createWaitingForEvent(ctx.store, "race", { task: "race" });
    const results = await Promise.all(
      [ctx.store, peer, ctx.store, peer].map((store, i) =>
        store.deliverEvent({ executionId: execution.id, eventName: "race", payloadJson: String(i), now: T0 + 1 }),
      ),
    );
    assert.equal(results.filter((r) => r.outcome === "delivered").length, 1);
    assert.equal(results.filter((r) => r.outcome === "not_waiting").length, 3);
    const winner = results.findIndex((r) => r.outcome === "delivered");
    assert.equal((await ctx.store.getStepDetail(execution.id)).steps[0]?.resultJson, String(winner));
    assert.equal((await ctx.store.getExecution(execution.id))?.stepsCompleted, 1);
  });

  test("getStepDetail: steps by start time then name, attempts in order; unknown id is empty", async () => {
    const { execution, fence } = await createRunning(ctx.store, { task: "d" });
    const steps = [
      stepRecord(execution.id, "b-second", { startedAt: T0 + 5 }),
      stepRecord(execution.id, "z-first", { startedAt: T0 + 1 }),
      stepRecord(execution.id, "a-second", {
        startedAt: T0 + 5,
        state: "failed",
        resultJson: null,
        error: { message: "e", step: "a-second" },
      }),
    ];
    const attempt = (step: string, n: number) => ({
      executionId: execution.id,
      step,
      attempt: n,
      executionAttempt: 1,
      startedAt: T0 + n,
      endedAt: T0 + n + 1,
      error: { message: `try ${n}`, step },
    });
    const attempts = [attempt("a-second", 2), attempt("b-second", 1), attempt("a-second", 1)];
    await applyOne(ctx.store, checkpoint(fence, { transition: "progress", currentStep: null, stepsCompleted: 3 }, { steps, attempts }));
    const detail = await ctx.store.getStepDetail(execution.id);
    assert.deepEqual(
      detail.steps.map((s) => s.name),
      ["z-first", "a-second", "b-second"],
    );
    assert.deepEqual(detail.steps[1], steps[2]);
    assert.deepEqual(detail.attempts, [attempt("a-second", 1), attempt("a-second", 2), attempt("b-second", 1)]);
    assert.deepEqual(await ctx.store.getStepDetail(newId()), { steps: [], attempts: [] });
  });

  test("notices: runnable on create and wake-ups, terminal on completion, cancelled for a running execution", async () => {
    const recorder = new NoticeRecorder(ctx.store);
    const seenTerminal: Promise<unknown>[] = [];
    const peer = await ctx.peer();
    // A listener that reads the row when told it is terminal: the write must already be committed.
    const unsubscribePeek = ctx.store.subscribe((n) => {
      if (n.kind === "terminal") seenTerminal.push(peer.getStatuses([n.executionId]).then((m) => m.get(n.executionId)));
    });
    const unsubscribeBroken = ctx.store.subscribe(() => {
      throw new Error("a broken listener must not break the store");
    });
    const is = (expected: Notice) => (n: Notice) => JSON.stringify(n) === JSON.stringify(expected);

    const a = await createRunning(ctx.store, { task: "na", now: T0 + 3 });
    await recorder.waitFor(is({ kind: "runnable", task: "na", at: T0 + 3 }), "runnable on create");
    await applyOne(
      ctx.store,
      checkpoint(a.fence, { transition: "park", currentStep: "t", waitingForEvent: null, wakeAt: T0 + 900, stepsCompleted: 0 }),
    );
    await recorder.waitFor(is({ kind: "runnable", task: "na", at: T0 + 900 }), "runnable for a timer");

    const b = await createRunning(ctx.store, { task: "nb" });
    await applyOne(ctx.store, checkpoint(b.fence, { transition: "complete", outputJson: "1", stepsCompleted: 0 }));
    await recorder.waitFor(is({ kind: "terminal", executionId: b.execution.id, status: "completed" }), "terminal on completion");

    const c = await createRunning(ctx.store, { task: "nc" });
    await ctx.store.cancelExecution(c.execution.id, T0 + 1);
    await recorder.waitFor(is({ kind: "cancelled", executionId: c.execution.id }), "cancelled for a running execution");
    await recorder.waitFor(is({ kind: "terminal", executionId: c.execution.id, status: "cancelled" }), "terminal on cancel");

    const dup = await ctx.store.createExecution({ id: newId(), task: "nd", dataJson: "{}", idempotencyKey: "once", now: T0 });
    await ctx.store.createExecution({ id: newId(), task: "nd", dataJson: "{}", idempotencyKey: "once", now: T0 + 77 });
    await create(ctx.store, { task: "marker" });
    await recorder.waitFor((n) => n.kind === "runnable" && n.task === "marker", "marker");
    assert.equal(dup.created, true);
    assert.equal(recorder.notices.filter((n) => n.kind === "runnable" && n.task === "nd").length, 1, "an idempotent replay is no new work");

    recorder.unsubscribe();
    unsubscribePeek();
    unsubscribeBroken();
    const before = recorder.notices.length;
    await create(ctx.store, { task: "after" });
    assert.deepEqual([...new Set(await Promise.all(seenTerminal))].sort(), ["cancelled", "completed"]);
    assert.equal(recorder.notices.length, before, "no notices after unsubscribe");
  });
}
