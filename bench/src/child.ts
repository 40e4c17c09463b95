/**
 * Runs one benchmark job in a fresh Node process and returns its result. Worker throughput must come
 * from a separate process that only drains the queue; using a child for every other job too keeps
 * systems with process-wide state (DBOS's singleton) apart and gives each figure a clean heap.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EnqueueMode, LatencyConfig, Target, ThroughputConfig } from "./systems/types.js";
import type { ThroughputWorkload } from "./workloads.js";

export type ChildJob =
  | { op: "migrate"; system: string; target: Target }
  | { op: "enqueue"; system: string; target: Target; workload: ThroughputWorkload; n: number; mode?: EnqueueMode }
  | { op: "drain"; system: string; target: Target; config: ThroughputConfig }
  | { op: "latency"; system: string; target: Target; config: LatencyConfig }
  | { op: "wake"; system: string; target: Target; samples: number; warmup: number }
  | { op: "scale"; system: string; target: Target; stored: number; samples: number }
  | { op: "sleepers"; system: string; target: Target; count: number }
  | { op: "retention-fill"; system: string; target: Target; stored: number; n: number; claims: number }
  | { op: "retention-drain"; system: string; target: Target; n: number }
  | { op: "retention-claims"; system: string; target: Target; samples: number; warmup: number }
  | { op: "retention-prune"; system: string; target: Target; batchSize: number };

export type ChildReply = { ok: true; result: unknown; rssPeakBytes: number } | { ok: false; error: string };

const CHILD_MAIN = fileURLToPath(new URL("./child-main.ts", import.meta.url));
/** tsx from whichever node_modules serves this file (bench's own, or the repo root's in the smoke test). */
const TSX = import.meta.resolve("tsx");

export interface ChildOutcome<T> {
  result: T;
  rssPeakBytes: number;
}

/** Forks child-main.ts, sends the job, and resolves with its reply; kills the child after `timeoutMs`. */
export function runInChild<T>(job: ChildJob, timeoutMs: number): Promise<ChildOutcome<T>> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_MAIN, [], {
      execArgv: ["--import", TSX],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, BENCH_CHILD: "1" },
    });
    // Peers log on their own; keep the tail for error messages instead of flooding the tables.
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let reply: ChildReply | null = null;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${job.op} ${job.system}: timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on("message", (message) => {
      reply = message as ChildReply;
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const r = reply as ChildReply | null;
      if (r?.ok) resolve({ result: r.result as T, rssPeakBytes: r.rssPeakBytes });
      else if (r) reject(new Error(`${job.op} ${job.system}: ${r.error}\n${output}`));
      else reject(new Error(`${job.op} ${job.system}: child exited (${code ?? signal}) without a reply\n${output}`));
    });
    child.send(job);
  });
}
