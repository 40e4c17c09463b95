/** What a worker is built from: its resolved options (engine/resolve-options.ts) and the engine's parts it uses. */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { TaskDefinition } from "../core/task.js";
import type { Store } from "../store/store.js";
import type { RunnerDeps } from "./execution-runner.js";

export interface ResolvedWorkerOptions {
  concurrency: number;
  /** Executions claimed beyond the free slots and held (under lease) in a local buffer. 0: none. */
  prefetch: number | "auto";
  /** schedule() without an explicit `eager` starts eagerly when it can (see WorkerOptions.eagerStart). */
  eagerStart: boolean;
  leaseMs: number;
  safetyPollMs: number;
  shutdownGraceMs: number;
}

export interface WorkerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  workerId: string;
  tasks: ReadonlyMap<string, TaskDefinition>;
  options: ResolvedWorkerOptions;
  runnerDeps: RunnerDeps;
  onClaim?(count: number, ms: number): void;
  onLaunch?(task: string): void;
}
