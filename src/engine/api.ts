/**
 * What the HTTP server (and any other front end) needs from the engine. `Engine` implements it; the
 * server depends on this interface only. Every method throws `ZartError` with a stable code for the
 * caller's mistakes (`task_not_registered`, `invalid_data`, `execution_not_found`, …).
 */
import type { Duration } from "../core/duration.js";
import type { ExecutionRecord, StatusCounts } from "../core/types.js";
import type { TaskSummary, WorkerRecord } from "../store/operations.js";
import type { ListQuery, ListResult, StepDetail } from "../store/store.js";
import type { ScheduleApi } from "./schedules/schedule-api.js";
import type { Timeline } from "./timeline.js";
import type { UnservedTask } from "./unserved-tasks.js";

export interface ScheduleRequest {
  task: string;
  data: unknown;
  idempotencyKey?: string;
  /** Delayed start (RFC 3339): the execution stays `pending` until then. */
  startAt?: string | null;
  /** Higher first; default 0. */
  priority?: number;
  /** Overrides the task's concurrency key (operations.md §5). */
  concurrencyKey?: string;
  /** W3C `traceparent` of the caller: the execution's spans join that trace. */
  traceparent?: string | null;
  /**
   * Eager start: when this process runs the task and has a free slot, run it here at once (no claim round
   * trip, no notice hop); its insert carries the run's first write, so it is answered as `running`, or
   * already `completed`/`failed` when it ended without a step (docs/engine.md). Otherwise it queues as
   * usual. Default: the worker's `eagerStart` (on), which also waits its turn behind known queued work;
   * `true` starts at once whenever a slot is free; `false` always queues.
   */
  eager?: boolean;
}

/**
 * What stops a wait early: an AbortSignal, or any object keeping the same contract. The HTTP server
 * passes a lighter one per long-poll (docs/decisions/024-long-poll-memory.md).
 */
export interface WaitSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export interface ScheduleResult {
  execution: ExecutionRecord;
  /** false when the idempotency key matched an existing execution of the same task (HTTP 200). */
  created: boolean;
}

export interface TaskInfo {
  name: string;
  inputSchemaJson: string | null;
  /** Whether this process runs it (false: known from another worker's registration). */
  local: boolean;
}

/** A rerun's options (operations.md §2). */
export interface RerunRequest {
  /** Copy the records made before this step was first reached; the new execution runs it for real. */
  fromStep?: string;
  /** New input, checked like a POST's; default: the old execution's data. */
  data?: unknown;
  idempotencyKey?: string;
}

/** `engine.prune` (`POST /api/v1/admin/prune`). */
export interface PruneOptions {
  olderThan: Duration;
}

export interface ZartApi {
  /** Throws task_not_registered, invalid_data, execution_already_exists (same key, other task). */
  schedule(request: ScheduleRequest): Promise<ScheduleResult>;
  /** Throws execution_not_found. */
  get(id: string): Promise<ExecutionRecord>;
  list(query: ListQuery): Promise<ListResult>;
  /** Cancels; idempotent for cancelled. Throws execution_not_found, execution_not_cancellable. */
  cancel(id: string): Promise<ExecutionRecord>;
  /**
   * Throws execution_not_found, not_waiting_for_event, invalid_data (payload schema). "buffered": the task
   * keeps events sent before their wait (`events: "buffered"`) and this one was stored for it.
   */
  deliverEvent(id: string, eventName: string, payloadJson: string): Promise<"delivered" | "buffered">;
  /**
   * Resolves with the execution as soon as it is terminal, or with its current state when `timeoutMs`
   * passes or `signal` aborts (client gone, server draining). Throws execution_not_found.
   * Costs no store query per waiter per tick: waiters are woken by terminal notices.
   */
  waitForTerminal(id: string, timeoutMs: number, signal?: WaitSignal): Promise<ExecutionRecord>;
  /**
   * {@link waitForTerminal} for a holder of many waits (the server's parked long-polls): an open wait
   * holds no promise or suspended function. Calls `done` once, when the wait is over, with what
   * waitForTerminal would have settled with; the function it returns ends the wait early, as an aborted
   * signal would.
   */
  watchTerminal(id: string, timeoutMs: number, done: (execution: Promise<ExecutionRecord>) => void): () => void;
  stats(): Promise<StatusCounts>;
  stepDetail(id: string): Promise<StepDetail>;
  /** Throws when the store does not answer. */
  ready(): Promise<void>;
  /** Tasks with pending executions that no live worker serves (they wait until one starts). */
  unservedTasks(): Promise<UnservedTask[]>;
  /** Tasks this process runs (an API-only server learns others' tasks from the store on demand). */
  tasks(): Promise<TaskInfo[]>;
  /** Number of open `waitForTerminal` calls (for metrics). */
  openWaiters(): number;
  /** New executions waiting for their insert in this process's store (for metrics). */
  pendingInserts(): number;

  // ── Operating executions (operations.md §1-§2) ──────────────────────────────
  /** Every step, sleep, event wait and child start with its attempts. Throws execution_not_found. */
  steps(id: string): Promise<Timeline>;
  /** Tasks a live worker serves or that have executions, with counts by status. */
  taskList(): Promise<TaskSummary[]>;
  /** Workers heard from within two lease periods. */
  workers(): Promise<WorkerRecord[]>;
  /**
   * Resumes a failed or cancelled execution in place (attempt + 1, the failure that ended it discarded).
   * Throws execution_not_found, execution_not_retryable (any other status, also the loser of two racing retries).
   */
  retry(id: string): Promise<ExecutionRecord>;
  /**
   * A new execution of the same task (`rerunOf` set), from scratch or from `fromStep`. Throws
   * execution_not_found, invalid_request (unknown step), invalid_data and task_not_registered (like a
   * POST), execution_already_exists (the idempotency key is held by another task's execution).
   */
  rerun(id: string, request: RerunRequest): Promise<ScheduleResult>;
  /**
   * Deletes `completed`, `failed` and `cancelled` executions that ended longer ago than `olderThan` (e.g.
   * `"30d"`), with their steps, attempts and events (docs/retention.md); waits while another process prunes
   * the same store. Returns how many it deleted. Throws invalid_request (not a duration).
   */
  prune(options: PruneOptions): Promise<number>;
  /** Cron schedules; without it the server serves no `/api/v1/schedules` routes. */
  readonly schedules?: ScheduleApi;
}

/** {@link ZartApi.watchTerminal} through `waitForTerminal`, for a caller or implementation with no cheaper form. */
export function watchThroughWait(
  api: Pick<ZartApi, "waitForTerminal">,
  id: string,
  timeoutMs: number,
  done: (execution: Promise<ExecutionRecord>) => void,
): () => void {
  const stop = new AbortController();
  api.waitForTerminal(id, timeoutMs, stop.signal).then(
    (execution) => done(Promise.resolve(execution)),
    (error: unknown) => done(Promise.reject(error)),
  );
  return () => stop.abort();
}
