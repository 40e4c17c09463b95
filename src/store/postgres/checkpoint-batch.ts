/**
 * Encodes a checkpoint batch as the jsonb argument of `apply_checkpoints()` (migration 2), and derives the
 * notices to emit locally for the checkpoints that applied.
 *
 * Rows are keyed by the fence's execution id, never by the ids inside step or attempt records, so nothing
 * in a checkpoint can write to an execution whose lease it does not hold.
 */
import type { StepRecord } from "../../core/types.js";
import { encodeError } from "../row-mapping.js";
import type { Checkpoint, ExecutionPatch, Notice } from "../store.js";

interface PatchJson {
  status: ExecutionPatch["status"];
  currentStep?: string | null;
  stepsCompleted?: number;
  waitingForEvent?: string | null;
  wakeAt?: number | null;
  runAt?: number;
  retryAttempt?: number | null;
  outputJson?: string;
  error?: string | null;
}

function patchJson(patch: ExecutionPatch): PatchJson {
  switch (patch.status) {
    case "running":
      return { status: patch.status, currentStep: patch.currentStep, stepsCompleted: patch.stepsCompleted };
    case "waiting":
      return {
        status: patch.status,
        currentStep: patch.currentStep,
        waitingForEvent: patch.waitingForEvent,
        wakeAt: patch.wakeAt,
        stepsCompleted: patch.stepsCompleted,
      };
    case "requeue":
      return { status: patch.status, runAt: patch.runAt, retryAttempt: patch.retryAttempt?.attempt ?? null };
    case "completed":
      return { status: patch.status, outputJson: patch.outputJson, stepsCompleted: patch.stepsCompleted };
    case "failed":
      return { status: patch.status, error: encodeError(patch.error), stepsCompleted: patch.stepsCompleted };
  }
}

/** The last record wins when a checkpoint names one step twice (an upsert may not touch a row twice). */
function uniqueSteps(steps: readonly StepRecord[]): StepRecord[] {
  const byName = new Map<string, StepRecord>();
  for (const step of steps) byName.set(step.name, step);
  return [...byName.values()];
}

/** A checkpoint's step rows as the `jsonb_to_recordset` input of the SQL that writes them. */
export function stepsJson(checkpoint: Checkpoint): object[] {
  return uniqueSteps(checkpoint.steps ?? []).map((s) => ({
    name: s.name,
    kind: s.kind,
    state: s.state,
    result: s.resultJson,
    error: encodeError(s.error),
    attempts: s.attempts,
    wake_at: s.wakeAt,
    schema: s.schemaJson,
    started_at: s.startedAt,
    completed_at: s.completedAt,
  }));
}

/** A checkpoint's failed attempts, likewise. */
export function attemptsJson(checkpoint: Checkpoint): object[] {
  return (checkpoint.attempts ?? []).map((a) => ({
    step: a.step,
    attempt: a.attempt,
    started_at: a.startedAt,
    ended_at: a.endedAt,
    error: JSON.stringify(a.error),
  }));
}

function checkpointJson(checkpoint: Checkpoint, index: number): object {
  return {
    i: index,
    id: checkpoint.fence.executionId,
    token: checkpoint.fence.leaseToken,
    now: checkpoint.now,
    steps: stepsJson(checkpoint),
    attempts: attemptsJson(checkpoint),
    patch: patchJson(checkpoint.execution),
  };
}

/**
 * Checkpoints go to the database sorted by execution id (stable, so two checkpoints of one execution keep
 * their order): every batch then takes its row locks in the same global order, so two batches can never
 * deadlock on each other's rows.
 */
export function encodeBatch(batch: readonly Checkpoint[]): string {
  const order = batch.map((checkpoint, index) => ({ checkpoint, index }));
  order.sort((a, b) =>
    a.checkpoint.fence.executionId < b.checkpoint.fence.executionId
      ? -1
      : a.checkpoint.fence.executionId > b.checkpoint.fence.executionId
        ? 1
        : a.index - b.index,
  );
  return JSON.stringify(order.map(({ checkpoint, index }) => checkpointJson(checkpoint, index)));
}

/** What listeners hear about an applied checkpoint (in this process at once, in others through NOTIFY). */
export function checkpointNotice(checkpoint: Checkpoint, task: string): Notice | null {
  const patch = checkpoint.execution;
  const id = checkpoint.fence.executionId;
  switch (patch.status) {
    case "running":
      return null;
    case "waiting":
      return patch.wakeAt === null ? null : { kind: "runnable", task, at: patch.wakeAt };
    case "requeue":
      return { kind: "runnable", task, at: patch.runAt };
    case "completed":
    case "failed":
      return { kind: "terminal", executionId: id, status: patch.status };
  }
}
