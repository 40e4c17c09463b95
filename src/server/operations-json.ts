/**
 * The operations routes' records as wire JSON (operations.md §1-§2): the step timeline (values over
 * 64 KiB replaced by a marker, errors without their `step`), tasks and workers.
 */
import type { ErrorInfo } from "../core/types.js";
import type { Timeline, TimelineAttempt, TimelineEntry } from "../engine/timeline.js";
import type { TaskSummary, WorkerRecord } from "../store/operations.js";
import { type StepsResponse, type TaskItem, TIMELINE_VALUE_MAX_BYTES, type TimelineStep, type WorkerItem } from "./operation-schemas.js";
import { isoTime } from "./serialize.js";

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/** A stored JSON value, or the truncation marker when its text is over 64 KiB. */
function timelineValue(json: string): unknown {
  // Characters are at most 3 UTF-8 bytes each (4 for a surrogate pair, which is 2 characters): only texts
  // that might be over the limit are measured.
  if (json.length * 3 > TIMELINE_VALUE_MAX_BYTES) {
    const bytes = Buffer.byteLength(json);
    if (bytes > TIMELINE_VALUE_MAX_BYTES) return { truncated: true, bytes };
  }
  return JSON.parse(json);
}

function stepError(error: ErrorInfo | null): TimelineStep["error"] {
  if (error === null) return null;
  const { step: _step, ...rest } = error;
  return rest;
}

function attemptJson(a: TimelineAttempt): TimelineStep["attempts"][number] {
  return {
    attempt: a.attempt,
    execution_attempt: a.executionAttempt,
    started_at: isoTime(a.startedAt),
    ended_at: isoOrNull(a.endedAt),
    error: stepError(a.error),
  };
}

function stepJson(entry: TimelineEntry): TimelineStep {
  const ended = entry.status === "completed" || entry.status === "failed";
  const step: TimelineStep = {
    name: entry.name,
    kind: entry.kind,
    status: entry.status,
    started_at: isoOrNull(entry.startedAt),
    completed_at: isoOrNull(entry.completedAt),
    duration_ms: ended && entry.startedAt !== null && entry.completedAt !== null ? Math.max(0, entry.completedAt - entry.startedAt) : null,
    attempts: entry.attempts.map(attemptJson),
    error: stepError(entry.error),
  };
  if (entry.resultJson !== undefined) step.result = timelineValue(entry.resultJson);
  if (entry.payloadJson !== undefined) step.payload = timelineValue(entry.payloadJson);
  if (entry.schemaJson !== undefined) step.schema = JSON.parse(entry.schemaJson);
  if (entry.wakeAt !== undefined) step.wake_at = isoTime(entry.wakeAt);
  if (entry.timeoutAt !== undefined) step.timeout_at = isoTime(entry.timeoutAt);
  if (entry.retryAt !== undefined) step.retry_at = isoTime(entry.retryAt);
  if (entry.childExecutionId !== undefined) step.child_execution_id = entry.childExecutionId;
  if (entry.copiedFrom !== undefined) step.copied_from = entry.copiedFrom;
  if (entry.closed) step.closed = true;
  if (entry.discarded) step.discarded = true;
  return step;
}

export function stepsJson(timeline: Timeline): StepsResponse {
  return { execution_id: timeline.executionId, steps: timeline.entries.map(stepJson) };
}

export function taskJson(task: TaskSummary): TaskItem {
  return {
    name: task.name,
    input_schema: task.inputSchemaJson === null ? null : (JSON.parse(task.inputSchemaJson) as Record<string, unknown>),
    workers: task.workers,
    last_seen_at: isoOrNull(task.lastSeenAt),
    counts: { ...task.counts },
  };
}

export function workerJson(worker: WorkerRecord): WorkerItem {
  return {
    worker_id: worker.workerId,
    host: worker.host,
    pid: worker.pid,
    tasks: worker.tasks,
    concurrency: worker.concurrency,
    running: worker.running,
    started_at: isoTime(worker.startedAt),
    last_seen_at: isoTime(worker.lastSeenAt),
  };
}
