/** The shape of a results file (bench/results/<timestamp>.json): raw per-run records, aggregated later. */
import type { OutputCheck } from "./workloads.js";

export interface ThroughputRecord {
  system: string;
  label: string;
  storage: string;
  workload: string;
  variant: string;
  settings: string;
  concurrency: number;
  n: number;
  run: number;
  elapsedMs: number;
  perSecond: number;
  /** pg_stat_database.xact_commit delta over the worker's life ÷ N (Postgres only). */
  txPerExecution: number | null;
  workerRssPeakMb: number;
  check: OutputCheck;
}

export interface EnqueueRecord {
  system: string;
  label: string;
  storage: string;
  mode: string;
  n: number;
  run: number;
  perSecond: number;
}

export interface LatencyRecord {
  system: string;
  label: string;
  storage: string;
  /** w0, w1, w3 (event wake), or http-w0/http-w1 for Zart over HTTP. */
  workload: string;
  variant: string;
  settings: string;
  run: number;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  workerSideP50: number | null;
  check: OutputCheck;
}

export interface HttpRecord {
  target: string;
  label: string;
  route: string;
  connections: number;
  durationS: number;
  run: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface ScaleRecord {
  storage: string;
  stored: number;
  operation: string;
  run: number;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface MemoryRecord {
  what: string;
  storage: string;
  count: number;
  run: number;
  baselineRssMb: number;
  rssMb: number;
  perItemKb: number;
  note: string;
}

/** One phase of the retention figure: workers with nothing else running, or while a prune round runs. */
export interface RetentionRecord {
  phase: "baseline" | "pruning";
  run: number;
  /** Old finished executions stored when the phase began. */
  stored: number;
  /** W0 executions the worker drained. */
  n: number;
  w0PerSecond: number;
  claimSamples: number;
  claimP50: number;
  claimP95: number;
  claimP99: number;
  /** The pruning phase: the round's result, and the old executions still stored when the measurements ended. */
  batchSize?: number;
  pruned?: number;
  pruneMs?: number;
  remainingAtEnd?: number;
}

export interface Failure {
  cell: string;
  run: number;
  error: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  postgres: string | null;
  postgresSettings: Record<string, string>;
  loadAverageAtStart: number[];
}

export interface Results {
  startedAt: string;
  finishedAt: string;
  mode: string;
  runs: number;
  machine: Machine;
  versions: Record<string, string>;
  throughput: ThroughputRecord[];
  enqueue: EnqueueRecord[];
  latency: LatencyRecord[];
  http: HttpRecord[];
  scale: ScaleRecord[];
  memory: MemoryRecord[];
  /** Absent in results files written before the retention figure existed. */
  retention?: RetentionRecord[];
  failures: Failure[];
  notes: string[];
}

export function emptyResults(mode: string, runs: number, machine: Machine): Results {
  return {
    startedAt: new Date().toISOString(),
    finishedAt: "",
    mode,
    runs,
    machine,
    versions: {},
    throughput: [],
    enqueue: [],
    latency: [],
    http: [],
    scale: [],
    memory: [],
    retention: [],
    failures: [],
    notes: [],
  };
}
