/** Wire types of `GET /api/v1/executions/:id/steps`: the step timeline of one execution. */

export type StepKind = "step" | "sleep" | "event" | "child";
export type StepStatus = "running" | "waiting" | "completed" | "failed";

/** An attempt's error. `stack` appears here (the timeline), never in an execution's `error`. */
export interface StepError {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
}

/** What replaces a `result` or `payload` larger than 64 KiB (the full value stays stored). */
export interface TruncatedValue {
  truncated: true;
  bytes: number;
}

/**
 * One attempt of a step. `attempt` counts up across execution-level retries; `execution_attempt`
 * says which run of the execution made it.
 */
export interface StepAttempt {
  attempt: number;
  execution_attempt: number;
  started_at: string;
  ended_at: string | null;
  error: StepError | null;
}

/**
 * One step, sleep, event wait or child start, in the order the execution first reached it. The
 * kind-specific fields appear for their kind only: `wake_at` (sleep), `timeout_at`, `schema` and
 * `payload` (event), `retry_at` (a step waiting out a backoff), `child_execution_id` (child);
 * `copied_from` marks a record copied by a rerun from a step. docs/operations.md has every rule.
 */
export interface StepRecord {
  name: string;
  kind: StepKind;
  status: StepStatus;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  attempts: StepAttempt[];
  /** A step's value, or an ended child's output. */
  result?: unknown;
  /** An event wait's payload once received. */
  payload?: unknown;
  error: StepError | null;
  wake_at?: string;
  timeout_at?: string | null;
  /** A waiting event wait's payload JSON Schema (a delivery is checked against it). */
  schema?: Record<string, unknown>;
  retry_at?: string;
  child_execution_id?: string;
  copied_from?: string;
  /** A wait the execution no longer needed when it ended (status `completed`, no value). */
  closed?: true;
  /** A failure a retry set aside: the step runs again (status `failed` until it does). */
  discarded?: true;
}

export interface ExecutionSteps {
  execution_id: string;
  steps: StepRecord[];
}
