/** Wire types of `GET /api/v1/tasks` and `GET /api/v1/workers`. */
import type { ExecutionStatus } from "./execution-types.js";

/** A task a live worker serves or that has executions. */
export interface TaskInfo {
  name: string;
  /** The task's declared input JSON Schema, or `null` when it declares none. */
  input_schema: Record<string, unknown> | null;
  /** Live workers serving it. */
  workers: number;
  /** When a worker serving it was last heard from; `null` when none ever was (executions only). */
  last_seen_at: string | null;
  /** Its executions by status (a status with none may be left out). */
  counts: Partial<Record<ExecutionStatus, number>>;
}

export interface TaskList {
  tasks: TaskInfo[];
}

/** A worker seen within two lease periods (a worker that stops heartbeating drops off). */
export interface WorkerInfo {
  worker_id: string;
  host: string;
  pid: number;
  tasks: string[];
  /** Executions it runs at once at most. */
  concurrency: number;
  /** Executions it is running now. */
  running: number;
  started_at: string;
  last_seen_at: string;
}

export interface WorkerList {
  workers: WorkerInfo[];
}
