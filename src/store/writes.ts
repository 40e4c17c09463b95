/**
 * What a store request means in terms of the state machine: which transition a checkpoint, a creation or
 * a delivery applies, with which parameters, and which notices its result warrants. Both stores call
 * these, so the mapping from the engine's requests to transitions exists once.
 */
import { engineFailure } from "../core/errors.js";
import type { ErrorInfo, ExecutionStatus, StepRecord } from "../core/types.js";
import type { ExecutionRow } from "../state/columns.js";
import { COMPOSITES } from "../state/composites.js";
import type { Params, Value } from "../state/expr.js";
import { TRANSITIONS, type Transition } from "../state/transitions.js";
import { encodeError } from "./row-mapping.js";
import type { Checkpoint, NewExecution, Notice, WorkerPatch } from "./store.js";

/**
 * What a worker's write reports about the row it wrote, to its notice and its consequences (a parent to
 * answer, a concurrency slot to hand on). Narrower than the row: a checkpoint never reads back its data.
 */
export const WRITTEN_COLUMNS = [
  "id",
  "task",
  "status",
  "runnable_at",
  "parent_id",
  "parent_step",
  "concurrency_key",
  "concurrency_limit",
  "output",
  "error",
] as const;
export type WrittenRow = Pick<ExecutionRow, (typeof WRITTEN_COLUMNS)[number]>;

/** What a worker's write reads back: only what the store decided (its status and due time after the write). */
export type Decided = Pick<WrittenRow, "status" | "runnable_at">;

/**
 * The status and due time a transition leaves when both are constants (an end), else null: a write of it
 * then has nothing to read back.
 */
export function knownOutcome(transition: Transition): Decided | null {
  const { status, runnable_at: runnableAt } = transition.set;
  if (status?.op !== "lit" || runnableAt?.op !== "lit") return null;
  return { status: status.value as string, runnable_at: runnableAt.value as number | null };
}

/**
 * The row a worker's write left, from what only the store knew (its status and due time: a park may
 * requeue, a backoff may be due) and what the checkpoint carries (its owner, its output or error): reading
 * every column back was measurably slower on both stores (decisions 019 and 033).
 */
export function writtenRow(checkpoint: Checkpoint, decided: Decided): WrittenRow {
  const { owner, patch } = checkpoint;
  return {
    id: checkpoint.fence.executionId,
    task: owner.task,
    status: decided.status,
    runnable_at: decided.runnable_at,
    parent_id: owner.parentId,
    parent_step: owner.parentStep,
    concurrency_key: owner.concurrencyKey,
    concurrency_limit: owner.concurrencyLimit,
    output: patch.transition === "complete" ? patch.outputJson : null,
    error: patch.transition === "fail" ? encodeError(patch.error) : null,
  };
}

export function workerTransition(patch: WorkerPatch): Transition {
  return TRANSITIONS[patch.transition];
}

/** The parameters of a checkpoint's transition. */
export function checkpointParams(checkpoint: WriteParts): Params {
  const { patch, now, stepsCompleted, crashes } = checkpoint;
  // One object per checkpoint (every step's write makes one), filled in place rather than spread.
  const params: Record<string, Value> = { now, steps_completed: stepsCompleted, crashes, consumed: checkpoint.consumedEvents?.length ?? 0 };
  switch (patch.transition) {
    case "progress":
      params.current_step = patch.currentStep;
      break;
    case "park":
      params.current_step = patch.currentStep;
      params.waiting_for_event = patch.waitingForEvent;
      params.wake_at = patch.wakeAt;
      break;
    case "release":
      params.run_at = patch.runAt;
      break;
    case "retry":
      params.run_at = patch.runAt;
      params.attempt = patch.attempt;
      break;
    case "complete":
      params.output = patch.outputJson;
      break;
    case "fail":
      params.error = encodeError(patch.error);
      break;
  }
  return params;
}

/** What a checkpoint's parameters are made of (the records it carries are written separately). */
export type WriteParts = Pick<Checkpoint, "patch" | "now" | "stepsCompleted" | "crashes" | "consumedEvents">;

/** The transition that creates the row: queued, born claimed (eager start), or born finished. */
export function creationTransition(input: NewExecution): Transition {
  if (input.finished) return input.finished.transition === "complete" ? COMPOSITES.create_completed : COMPOSITES.create_failed;
  return input.claimFor ? COMPOSITES.create_claimed : TRANSITIONS.create;
}

export function creationParams(input: NewExecution): Params {
  const params: Record<string, string | number | null> = {
    id: input.id,
    task: input.task,
    data: input.dataJson,
    idempotency_key: input.idempotencyKey,
    now: input.now,
    run_at: Math.max(input.startAt ?? input.now, input.now),
    start_at: input.startAt ?? null,
    priority: input.priority ?? 0,
    concurrency_key: input.concurrency?.key ?? null,
    concurrency_limit: input.concurrency?.limit ?? null,
    parent_id: input.parent?.id ?? null,
    parent_step: input.parent?.step ?? null,
    cancel_with_parent: input.parent?.cancelWithParent === false ? 0 : 1,
    rerun_of: input.rerunOf ?? null,
    schedule_id: input.scheduleId ?? null,
    traceparent: input.traceparent ?? null,
  };
  if (input.claimFor) Object.assign(params, { worker: input.claimFor.workerId, lease_ms: input.claimFor.leaseMs });
  const finished = input.finished;
  if (finished) {
    Object.assign(params, { at: finished.at, steps_completed: finished.stepsCompleted, crashes: 0, consumed: 0 });
    if (finished.transition === "complete") params.output = finished.outputJson;
    else params.error = encodeError(finished.error);
  }
  return params;
}

/** What a row's new state tells listeners: work due at some time, or an end. */
export function rowNotice(row: Pick<ExecutionRow, "id" | "task" | "status" | "runnable_at">): Notice | null {
  const status = row.status as ExecutionStatus;
  if (status === "completed" || status === "failed" || status === "cancelled") return { kind: "terminal", executionId: row.id, status };
  if (status !== "running" && row.runnable_at !== null) return { kind: "runnable", task: row.task, at: row.runnable_at };
  return null;
}

/** The notices of a created row: new queued work wakes workers; a row born claimed is already held by its creator. */
export function creationNotices(row: Pick<ExecutionRow, "id" | "task" | "status" | "runnable_at">): Notice[] {
  const notice = rowNotice(row);
  return notice ? [notice] : [];
}

/** One runnable notice per task (its earliest time) for many created rows, not one per row. */
export function mergeRunnable(notices: readonly Notice[]): Notice[] {
  const earliest = new Map<string, number>();
  const others: Notice[] = [];
  for (const notice of notices) {
    if (notice.kind === "runnable") earliest.set(notice.task, Math.min(earliest.get(notice.task) ?? notice.at, notice.at));
    else others.push(notice);
  }
  return [...others, ...[...earliest].map(([task, at]): Notice => ({ kind: "runnable", task, at }))];
}

/**
 * The parent's step record when a child ends: its output as the step's result, or a failure the parent's
 * `runChild` throws (catchable, recorded, so replays agree).
 */
export function childOutcome(
  child: Pick<ExecutionRow, "id" | "status" | "output" | "error">,
  step: string,
): {
  state: "completed" | "failed";
  result: string | null;
  error: string | null;
} {
  if (child.status === "completed") return { state: "completed", result: child.output, error: null };
  const cause = child.error === null ? null : (JSON.parse(child.error) as ErrorInfo);
  const error: ErrorInfo =
    child.status === "cancelled"
      ? engineFailure("child_cancelled", `Child execution ${child.id} was cancelled`, step)
      : engineFailure("child_failed", `Child execution ${child.id} failed: ${cause?.message ?? "unknown error"}`, step);
  return { state: "failed", result: null, error: JSON.stringify(error) };
}

export const TERMINAL = new Set<string>(["completed", "failed", "cancelled"]);

/** What a repeated cancel tells listeners: the end, and whoever still runs the execution must stop. */
export function cancelledNotices(id: string): Notice[] {
  return [
    { kind: "terminal", executionId: id, status: "cancelled" },
    { kind: "cancelled", executionId: id },
  ];
}

/**
 * The steps a delivery's claimed run starts from: the stored ones (read before the delivery wrote) with
 * the event's wait completed by it, first seen by that run (`run`: its lease token).
 */
export function withDelivery(
  steps: readonly StepRecord[],
  event: { name: string; payloadJson: string; now: number },
  run: number,
): StepRecord[] {
  return steps.map((step) =>
    step.name === event.name && step.kind === "event"
      ? { ...step, state: "completed" as const, resultJson: event.payloadJson, completedAt: event.now, settledIn: run }
      : step,
  );
}
