/** Engine events for metrics. The server plugs prom-client in; the default does nothing. */
export interface EngineMetrics {
  scheduled(task: string): void;
  /** A worker of this process began a run of an execution (a claim or an eager start). */
  started(task: string): void;
  /** An execution finished a run on this worker: completed / failed / parked / requeued / aborted. */
  finished(task: string, outcome: string, executionId: string): void;
  stepFinished(task: string, step: string, ms: number, ok: boolean): void;
  claimed(count: number, ms: number): void;
  /** A schedule tick this process applied: `started`, `skipped`, `held` or `failed` (docs/schedules.md). */
  scheduleTicked?(scheduleId: string, outcome: string): void;
  /** A step ended (completed, or failed for good), or one of its failed attempts will be retried. */
  stepOutcome?(task: string, step: string, outcome: "completed" | "failed" | "retried"): void;
  /** Finished executions deleted by a prune. */
  pruned?(count: number): void;
}

export const noMetrics: EngineMetrics = {
  scheduled() {},
  started() {},
  finished() {},
  stepFinished() {},
  claimed() {},
};
