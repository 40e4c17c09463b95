/**
 * The step timeline of one execution (operations.md §1) from what the store keeps: one entry per step,
 * sleep, event wait and child start in the order first reached, with the statuses of the contract
 * (`running | waiting | completed | failed`) and every attempt of a step.
 *
 * How stored states read: `completed` is completed; `closed` (a wait the execution no longer needed when it
 * ended) is completed with `closed`, and so is a record an ended execution left `waiting` or `retrying` (a
 * cancel or a timeout interrupted it, or a deploy's code no longer reaches it: its worker closes only the
 * waits its run reached; a retry makes the execution run again, and the record reads as stored again);
 * `failed` is failed, and so is `discarded` (a failure a retry set aside), with `discarded`; `waiting` and
 * `retrying` (a step waiting out a backoff) are waiting. A step being executed has no record until it
 * ends: while the execution runs, its `current_step` appears as a `running` entry (last), and a discarded
 * or retrying record of that name reads `running`.
 *
 * Attempts: failed ones are stored as they happen (a set-aside child, sleep or event wait's failure, by the
 * retry that set it aside); the successful one is the record itself (its number is the record's attempt
 * count, its execution attempt and start are the record's, written by the worker).
 */
import { type AttemptRecord, type ErrorInfo, type ExecutionRecord, isTerminal, type StepKind, type StepRecord } from "../core/types.js";
import type { TimelineData } from "../store/operations.js";

export type TimelineStatus = "running" | "waiting" | "completed" | "failed";

export interface TimelineAttempt {
  attempt: number;
  executionAttempt: number;
  startedAt: number;
  endedAt: number | null;
  error: ErrorInfo | null;
}

export interface TimelineEntry {
  name: string;
  kind: StepKind;
  status: TimelineStatus;
  startedAt: number | null;
  completedAt: number | null;
  attempts: TimelineAttempt[];
  error: ErrorInfo | null;
  /** A step's result, or an ended child's output (JSON text). */
  resultJson?: string;
  /** An event wait's payload once received (JSON text). */
  payloadJson?: string;
  /** A waiting event wait's payload schema (JSON Schema text). */
  schemaJson?: string;
  wakeAt?: number;
  timeoutAt?: number;
  /** A step waiting out a backoff between attempts: when it runs again. */
  retryAt?: number;
  childExecutionId?: string;
  copiedFrom?: string;
  closed?: true;
  discarded?: true;
}

export interface Timeline {
  executionId: string;
  entries: TimelineEntry[];
}

export function buildTimeline(data: TimelineData): Timeline {
  const { execution } = data;
  const failures = new Map<string, AttemptRecord[]>();
  for (const attempt of data.attempts) failures.set(attempt.step, [...(failures.get(attempt.step) ?? []), attempt]);
  const entries = data.steps.map((record) => entry(record, execution, failures.get(record.name) ?? [], data));
  const current = execution.status === "running" ? execution.currentStep : null;
  if (current !== null && !data.steps.some((s) => s.name === current)) {
    entries.push({
      name: current,
      kind: "step",
      status: "running",
      // The `progress` write that named it also stamped `updated_at`: when the step started, give or take.
      startedAt: execution.updatedAt,
      completedAt: null,
      attempts: [],
      error: null,
    });
  }
  return { executionId: execution.id, entries };
}

function entry(record: StepRecord, execution: ExecutionRecord, failed: AttemptRecord[], data: TimelineData): TimelineEntry {
  const running = execution.status === "running" && execution.currentStep === record.name;
  const base: TimelineEntry = {
    name: record.name,
    kind: record.kind,
    status: statusOf(record, running),
    // A step that ran again after a retry set its failure aside has a record of that run only; its entry
    // spans every attempt.
    startedAt: Math.min(record.startedAt, failed[0]?.startedAt ?? record.startedAt),
    completedAt: record.completedAt,
    attempts: record.kind === "step" ? attemptsOf(record, execution, failed) : failed.map(toAttempt),
    error: record.state === "failed" || record.state === "discarded" ? record.error : null,
  };
  if (record.copiedFrom !== null) base.copiedFrom = record.copiedFrom;
  if (record.state === "discarded") base.discarded = true;
  if (record.state === "closed" || (isTerminal(execution.status) && (record.state === "waiting" || record.state === "retrying"))) {
    base.status = "completed";
    base.closed = true;
    // Closed with the execution's end (the worker keeps the wait's own fields as they were).
    base.completedAt = record.completedAt ?? execution.completedAt ?? execution.updatedAt;
    return base;
  }
  switch (record.kind) {
    case "step":
      if (record.state === "completed" && record.resultJson !== null) base.resultJson = record.resultJson;
      if (record.state === "retrying" && record.wakeAt !== null) base.retryAt = record.wakeAt;
      break;
    case "sleep":
      if (record.wakeAt !== null) base.wakeAt = record.wakeAt;
      break;
    case "event":
      if (record.state === "completed" && record.resultJson !== null) base.payloadJson = record.resultJson;
      if (record.wakeAt !== null) base.timeoutAt = record.wakeAt;
      if (record.state === "waiting" && record.schemaJson !== null) base.schemaJson = record.schemaJson;
      break;
    case "child": {
      if (record.childId !== null) base.childExecutionId = record.childId;
      const output = childOutput(record, data);
      if (output !== null) base.resultJson = output;
      break;
    }
  }
  return base;
}

function statusOf(record: StepRecord, running: boolean): TimelineStatus {
  switch (record.state) {
    case "completed":
    case "closed":
      return "completed";
    case "failed":
      return "failed";
    case "discarded":
      return running ? "running" : "failed";
    case "waiting":
      return "waiting";
    case "retrying":
      return running ? "running" : "waiting";
  }
}

/** A `runChild` record holds the child's output; a `startChild` record (no result) is answered by the child itself. */
function childOutput(record: StepRecord, data: TimelineData): string | null {
  if (record.state !== "completed") return null;
  if (record.resultJson !== null) return record.resultJson;
  const child = record.childId === null ? undefined : data.children.get(record.childId);
  return child?.status === "completed" ? child.outputJson : null;
}

function toAttempt(a: AttemptRecord): TimelineAttempt {
  return { attempt: a.attempt, executionAttempt: a.executionAttempt, startedAt: a.startedAt, endedAt: a.endedAt, error: a.error };
}

function attemptsOf(record: StepRecord, execution: ExecutionRecord, failed: AttemptRecord[]): TimelineAttempt[] {
  const attempts = failed.map(toAttempt);
  if (record.state !== "completed") return attempts;
  const last = failed[failed.length - 1];
  attempts.push({
    attempt: Math.max(record.attempts, (last?.attempt ?? 0) + 1),
    // Records written without these (before the columns existed) fall back to the nearest known values.
    executionAttempt: record.executionAttempt ?? last?.executionAttempt ?? Math.max(execution.attempt, 1),
    startedAt: record.attemptStartedAt ?? Math.max(record.startedAt, last?.endedAt ?? record.startedAt),
    endedAt: record.completedAt,
    error: null,
  });
  return attempts;
}
