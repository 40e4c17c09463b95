/**
 * The one small interface every benchmarked system implements. The parent process never runs a
 * system's code itself: every call below happens in a spawned child (see child.ts), so each figure
 * comes from a fresh process and systems with global state (DBOS) never share one.
 */
import type { TallySummary, ThroughputWorkload, WorkloadName } from "../workloads.js";

export type Target = { kind: "postgres"; url: string; database: string } | { kind: "sqlite"; path: string };

export type EnqueueMode = "sequential" | "concurrent50" | "batch";

export const ALL_ENQUEUE_MODES: readonly EnqueueMode[] = ["sequential", "concurrent50", "batch"];

export type Mode = "tiny" | "quick" | "full";

/**
 * Samples run and dropped before a latency figure's measured ones, the same for every system whose samples
 * are quick (pg-boss's samples each wait on its poll interval: it drops one). Each figure runs in a fresh
 * process, while a worker in service runs warm, so the first samples of a process are a warm-up, not the
 * steady state: docs/decisions/018-latency-warm-up.md.
 */
export const LATENCY_WARMUP: Record<Mode, number> = { tiny: 2, quick: 600, full: 600 };

/** The same for the event-wake figure, whose samples each idle 20 ms first: fewer, for the run's length. */
export const WAKE_WARMUP: Record<Mode, number> = { tiny: 2, quick: 50, full: 200 };

/**
 * The figures measured as worker throughput (enqueue N, one worker drains them), each its own table:
 * "throughput" W0/W1, "w20" twenty steps, "steps" K steps per execution (Zart), "w0-features" W0 with
 * priorities or concurrency keys beside plain W0 (Zart), "children" a parent with ten children.
 */
export const THROUGHPUT_FIGURES = ["throughput", "w20", "steps", "w0-features", "children"] as const;
export type ThroughputFigure = (typeof THROUGHPUT_FIGURES)[number];

/** One throughput configuration: a workload at a concurrency under named settings. */
export interface ThroughputConfig {
  workload: ThroughputWorkload;
  concurrency: number;
  /** Adapter-specific settings key (e.g. graphile "tuned", Zart "priority"); shown in the tables. */
  variant: string;
  /** Executions (for parent10: parents) enqueued and drained. */
  n: number;
}

export interface EnqueueOptions {
  /** undefined = the fastest way, untimed prefill. */
  mode?: EnqueueMode;
  /** The throughput variant being prefilled, for adapters whose variants change what is enqueued. */
  variant?: string;
}

export interface LatencyConfig {
  workload: "w0" | "w1";
  variant: string;
  samples: number;
  warmup: number;
}

export interface DrainResult {
  elapsedMs: number;
  /** What the handlers saw, counted in the worker process. */
  tally: TallySummary;
  /** Peak resident set of the worker process, bytes. */
  rssPeak: number;
  /** Transactions the harness itself made on the database while draining (completion checks), subtracted from tx/execution. */
  ownTransactions?: number;
}

export interface LatencyResult {
  samplesMs: number[];
  /** Start → the function returned inside the worker, where the system lets us observe it. */
  workerSideMs?: number[];
  /** Each sample's output, checked like a throughput run. */
  tally: TallySummary;
}

export interface BenchSystem {
  /** Stable key: zart-pg, zart-sqlite, dbos, graphile, pgboss. */
  readonly id: string;
  readonly storage: "postgres" | "sqlite";
  /** "name version" for the tables. */
  label(): Promise<string>;
  /** Installs the schema into an empty database or file (the template). */
  migrate(target: Target): Promise<void>;
  /** The cells of one throughput figure; [] when the system has no counterpart of its workload. */
  throughputConfigs(mode: Mode, figure: ThroughputFigure): ThroughputConfig[];
  latencyConfigs(mode: Mode): LatencyConfig[];
  enqueueModes(): readonly EnqueueMode[];
  /** Enqueues inputs 0…n-1 of the workload; resolves with the milliseconds the enqueue calls took (the
   * client's connection set-up and tear-down excluded, for every system alike). */
  enqueue(target: Target, workload: ThroughputWorkload, n: number, options?: EnqueueOptions): Promise<number>;
  /** Runs one worker until all n are durably complete. Its clock starts just before the worker starts. */
  drain(target: Target, config: ThroughputConfig): Promise<DrainResult>;
  /**
   * Outputs as stored after a drain, read back from the database: null when the system keeps no
   * output (job queues delete or forget results), and the handler tally is then the only check.
   */
  storedOutputs(target: Target, config: ThroughputConfig): Promise<TallySummary | null>;
  latency(target: Target, config: LatencyConfig): Promise<LatencyResult>;
  /** W3: event delivery → completion. Undefined when the system has no durable event wait. */
  eventWake?(target: Target, samples: number, warmup: number): Promise<LatencyResult>;
  /** Settings shown beside a variant in the tables. */
  describeVariant(variant: string): string;
}

export type { ThroughputWorkload, WorkloadName };
