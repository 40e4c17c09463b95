/**
 * What the stores offer for operating executions (operations.md §1-§2): the step timeline's data, the
 * workers' heartbeats and the task list, resuming a failed or cancelled execution in place, and rerunning
 * one as a new execution. Both stores implement these in files of their own (`timeline.ts`, `fleet.ts`,
 * `recovery.ts`); the shapes and the store-independent assembly live here.
 */
import type { FailureCode } from "../core/errors.js";
import type { AttemptRecord, ExecutionRecord, ExecutionStatus, StatusCounts, StepRecord } from "../core/types.js";
import { EXECUTION_STATUSES, emptyCounts } from "../core/types.js";
import type { CreateResult, Notice } from "./store.js";

/** An execution a `startChild` record points at: how it ended, when it did. */
export interface ChildState {
  status: ExecutionStatus;
  outputJson: string | null;
}

/** Everything `GET /executions/:id/steps` shows, read in one snapshot. */
export interface TimelineData {
  execution: ExecutionRecord;
  /** In the order first reached (seq, then started_at, name), with `executionAttempt` and `attemptStartedAt` read. */
  steps: StepRecord[];
  /** Failed attempts, by step and attempt number. */
  attempts: AttemptRecord[];
  /** The executions that completed `startChild` records started, by id (those that still exist). */
  children: Map<string, ChildState>;
}

/** What a worker reports about itself on every heartbeat. */
export interface WorkerBeat {
  workerId: string;
  host: string;
  pid: number;
  tasks: readonly string[];
  concurrency: number;
  running: number;
  leaseMs: number;
  startedAt: number;
  now: number;
}

/** A worker's stored row. */
export interface WorkerRecord {
  workerId: string;
  host: string;
  pid: number;
  tasks: string[];
  concurrency: number;
  running: number;
  leaseMs: number;
  startedAt: number;
  lastSeenAt: number;
}

/** A worker is live while it was heard from within two of its lease periods. */
function isLive(worker: Pick<WorkerRecord, "lastSeenAt" | "leaseMs">, now: number): boolean {
  return worker.lastSeenAt + 2 * worker.leaseMs >= now;
}

/** Rows of workers not heard from for this long are deleted by the next heartbeat of any worker. */
export const WORKER_ROW_RETENTION_MS = 24 * 60 * 60 * 1000;

export interface TaskSummary {
  name: string;
  inputSchemaJson: string | null;
  /** Live workers serving it. */
  workers: number;
  /** The latest heartbeat of a (live or recently gone) worker serving it; null when none is stored. */
  lastSeenAt: number | null;
  counts: StatusCounts;
}

/**
 * The task list from its three small sources: counts by task and status, every stored worker row, and the
 * registrations (input schemas). A task is listed when a live worker serves it or it has executions.
 */
export function assembleTasks(
  counts: readonly { task: string; status: string; n: number }[],
  workers: readonly WorkerRecord[],
  schemas: ReadonlyMap<string, string | null>,
  now: number,
): TaskSummary[] {
  const tasks = new Map<string, TaskSummary>();
  const entry = (name: string): TaskSummary => {
    let task = tasks.get(name);
    if (!task) {
      task = { name, inputSchemaJson: schemas.get(name) ?? null, workers: 0, lastSeenAt: null, counts: emptyCounts() };
      tasks.set(name, task);
    }
    return task;
  };
  for (const row of counts) {
    if (row.n <= 0 || !(EXECUTION_STATUSES as readonly string[]).includes(row.status)) continue;
    entry(row.task).counts[row.status as ExecutionStatus] += row.n;
  }
  const live = workers.filter((w) => isLive(w, now));
  for (const worker of live) for (const name of worker.tasks) entry(name).workers += 1;
  // Last seen: the latest heartbeat of any stored worker serving it, live or gone (rows are kept a day).
  for (const worker of workers) {
    for (const name of worker.tasks) {
      const task = tasks.get(name);
      if (task) task.lastSeenAt = Math.max(task.lastSeenAt ?? worker.lastSeenAt, worker.lastSeenAt);
    }
  }
  return [...tasks.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `resumeExecution`: resumed (the row after), not found, or in a status that cannot be resumed. */
export type ResumeOutcome =
  | { outcome: "resumed"; execution: ExecutionRecord }
  | { outcome: "not_found" }
  | { outcome: "not_retryable"; execution: ExecutionRecord };

/** `rerunExecution`: the new execution (or the holder of its idempotency key), or an unknown `fromStep`. */
/** `not_found`: the execution to rerun is gone (pruned since the caller read it). */
export type RerunOutcome = { outcome: "created"; result: CreateResult } | { outcome: "unknown_step" } | { outcome: "not_found" };

/** The notices a resume warrants: the row is runnable again, and whoever cached its terminal record must drop it. */
export function resumeNotices(execution: ExecutionRecord): Notice[] {
  return [
    { kind: "resumed", executionId: execution.id },
    { kind: "runnable", task: execution.task, at: execution.runnableAt ?? execution.updatedAt },
  ];
}

/**
 * The order number a rerun copies below when `fromStep` has no record because the source is executing it
 * right now (the timeline shows it as `running`): every record it has was made before that step.
 */
export const AFTER_EVERY_RECORD = 2_147_483_647;

/** The error codes of step records a cancellation cascaded into (a child cancelled with its parent). */
export const CANCELLED_CHILD_CODE = "child_cancelled" satisfies FailureCode;

/** A `workers` row as both stores return it. */
export interface WorkerRow {
  worker_id: string;
  host: string;
  pid: number;
  tasks: string;
  concurrency: number;
  running: number;
  lease_ms: number;
  started_at: number;
  last_seen_at: number;
}

export function toWorker(row: WorkerRow): WorkerRecord {
  return {
    workerId: row.worker_id,
    host: row.host,
    pid: row.pid,
    tasks: JSON.parse(row.tasks) as string[],
    concurrency: row.concurrency,
    running: row.running,
    leaseMs: row.lease_ms,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
  };
}

/** A step row with the timeline's columns as the record's optional fields (absent when NULL). */
export function withTimelineColumns(
  step: StepRecord,
  row: { execution_attempt?: number | null; attempt_started_at?: number | null },
): StepRecord {
  const record: StepRecord = { ...step };
  if (row.execution_attempt !== null && row.execution_attempt !== undefined) record.executionAttempt = row.execution_attempt;
  if (row.attempt_started_at !== null && row.attempt_started_at !== undefined) record.attemptStartedAt = row.attempt_started_at;
  return record;
}

/** The ids of children whose outcome the timeline looks up: `startChild` records (completed, no result of their own). */
export function startedChildren(steps: readonly StepRecord[]): string[] {
  return steps.flatMap((s) =>
    s.kind === "child" && s.state === "completed" && s.resultJson === null && s.childId !== null ? [s.childId] : [],
  );
}
