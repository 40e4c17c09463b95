/**
 * What a retry keeps of an execution's history (operations.md §1: every attempt is kept, nothing is
 * overwritten): a child, sleep or event-wait record that a resume sets aside is kept as an attempt of its
 * own, so the record the next run writes in its place does not erase it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ErrorInfo } from "../../src/core/types.js";
import type { Store } from "../../src/store/store.js";
import { applyOne, checkpoint, createRunning, newId, type SuiteContext, stepRecord, T0 } from "./store-fixtures.js";

/** A running execution of `task` that started a child for step "kid" (execution attempt 1) and parked until it ends. */
async function parentWaitingOnChild(store: Store, task: string) {
  const { execution, fence } = await createRunning(store, { task, now: T0 });
  const child = { id: newId(), task: `kid-${newId()}`, dataJson: "{}", idempotencyKey: null, now: T0 + 1 };
  const record = stepRecord(execution.id, "kid", {
    kind: "child",
    state: "waiting",
    resultJson: null,
    attempts: 0,
    startedAt: T0 + 1,
    completedAt: null,
    childId: child.id,
    executionAttempt: 1,
  });
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  const parked = checkpoint(
    fence,
    { transition: "park", currentStep: "kid", waitingForEvent: null, wakeAt: null },
    { steps: [record], children: [{ ...child, parent: { id: execution.id, step: "kid", cancelWithParent: true } }], owner, now: T0 + 1 },
  );
  assert.equal(await applyOne(store, parked), true);
  return { execution, child, owner };
}

export function historyBehaviour(ctx: SuiteContext): void {
  test("resumeExecution: a child record the cancellation failed is kept as an attempt before it is set aside", async () => {
    const task = `hist-${newId()}`;
    const { execution, child } = await parentWaitingOnChild(ctx.store, task);
    await ctx.store.cancelExecution(execution.id, T0 + 8);
    await ctx.store.resumeExecution(execution.id, T0 + 9);
    const detail = await ctx.store.getStepDetail(execution.id);
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.state]),
      [["kid", "discarded"]],
    );
    assert.deepEqual(
      detail.attempts.map((a) => [a.step, a.attempt, a.executionAttempt, a.startedAt, a.endedAt, a.error.code]),
      [["kid", 1, 1, T0 + 1, T0 + 8, "child_cancelled"]],
    );
    assert.match(detail.attempts[0]?.error.message ?? "", new RegExp(child.id), "the attempt names the child it started");

    // A second cancel and retry before the run reached the child again adds nothing: the record was set aside already.
    await ctx.store.cancelExecution(execution.id, T0 + 10);
    await ctx.store.resumeExecution(execution.id, T0 + 11);
    assert.equal((await ctx.store.getStepDetail(execution.id)).attempts.length, 1);
  });

  test("resumeExecution: the failed child record that ended it is kept as an attempt, and only that one", async () => {
    const task = `hist-${newId()}`;
    const { execution, fence } = await createRunning(ctx.store, { task, now: T0 });
    const error: ErrorInfo = { message: "Child execution x failed: boom", step: "kid", code: "child_failed" };
    const fields = { kind: "child", resultJson: null, attempts: 0, startedAt: T0 + 1, executionAttempt: 1 } as const;
    const steps = [
      stepRecord(execution.id, "kid", { ...fields, state: "failed", error, completedAt: T0 + 4, childId: "x" }),
      // A failure the workflow caught is not set aside, so it is no attempt either.
      stepRecord(execution.id, "other", { ...fields, seq: 2, state: "failed", error: { ...error, step: "other" }, completedAt: T0 + 4 }),
    ];
    const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
    const failed = checkpoint(fence, { transition: "fail", error, stepsCompleted: 2 }, { steps, owner, now: T0 + 5 });
    assert.equal(await applyOne(ctx.store, failed), true);
    await ctx.store.resumeExecution(execution.id, T0 + 6);
    const detail = await ctx.store.getStepDetail(execution.id);
    assert.deepEqual(
      detail.steps.map((s) => [s.name, s.state]),
      [
        ["kid", "discarded"],
        ["other", "failed"],
      ],
    );
    assert.deepEqual(
      detail.attempts.map((a) => [a.step, a.attempt, a.executionAttempt, a.startedAt, a.endedAt, a.error.message]),
      [["kid", 1, 1, T0 + 1, T0 + 4, "Child execution x failed: boom"]],
    );
  });
}
