/**
 * graphile-worker 0.17: a Postgres job queue woken by LISTEN/NOTIFY. It has no steps, so W1 runs as a
 * chain of three jobs (a enqueues b enqueues c), the closest equivalent of three checkpoints, and W20 as a
 * chain of twenty (one task that enqueues itself with the next step's input).
 * Variant "tuned" turns on the batching from its performance docs (local queue + batched completion).
 */
import type { Job, Runner, RunnerOptions, TaskList } from "graphile-worker";
import { deferred, packageVersion, peakRss, pooled, postgresUrl, timed, waitUntil, withClient } from "../util.js";
import { chainLength, chainStep, OutputTally, priorityOf, stepA, stepB, stepC, type ThroughputWorkload, w0 } from "../workloads.js";
import type {
  BenchSystem,
  DrainResult,
  EnqueueOptions,
  LatencyConfig,
  LatencyResult,
  Mode,
  Target,
  ThroughputConfig,
  ThroughputFigure,
} from "./types.js";
import { LATENCY_WARMUP } from "./types.js";

/** W1 carries a and b down the chain; W20 carries the step index j and its input x. */
type Payload = { i: number; a?: number; b?: number; j?: number; x?: number };

type ChainWorkload = "w0" | "w1" | "w20";

function chainWorkload(workload: ThroughputWorkload): ChainWorkload {
  if (workload === "w0" || workload === "w1" || workload === "w20") return workload;
  throw new Error(`graphile-worker runs w0, w1 and w20 only (not ${workload})`);
}

async function lib() {
  return import("graphile-worker");
}

/** Keeps warnings and errors only: graphile logs every completed job at info level by default. */
async function quietLogger() {
  const { Logger } = await lib();
  return new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") console.error(`[graphile ${level}] ${message}`);
  });
}

function firstTask(workload: ChainWorkload): string {
  return workload === "w1" ? "a" : workload;
}

/** Task list: W0 records at once; W1 hands the value down the chain and records at job c; W20 at job 20. */
function taskList(workload: ChainWorkload, onOutput: (i: number, output: number) => void): TaskList {
  if (workload === "w20") {
    const steps = chainLength("w20")!;
    return {
      w20: async (payload, helpers) => {
        const p = payload as Payload;
        const j = p.j ?? 0;
        const x = chainStep(p.x ?? p.i, j);
        if (j + 1 < steps) await helpers.addJob("w20", { i: p.i, j: j + 1, x });
        else onOutput(p.i, x);
      },
    };
  }
  if (workload === "w0") {
    return {
      w0: async (payload) => {
        const p = payload as Payload;
        onOutput(p.i, w0(p));
      },
    };
  }
  return {
    a: async (payload, helpers) => {
      const p = payload as Payload;
      await helpers.addJob("b", { i: p.i, a: stepA(p.i) });
    },
    b: async (payload, helpers) => {
      const p = payload as Payload;
      await helpers.addJob("c", { i: p.i, b: stepB(p.a!) });
    },
    c: async (payload) => {
      const p = payload as Payload;
      onOutput(p.i, stepC(p.b!));
    },
  };
}

function runnerOptions(url: string, concurrency: number, variant: string): Promise<RunnerOptions> {
  return quietLogger().then((logger) => ({
    connectionString: url,
    concurrency,
    maxPoolSize: Math.max(10, concurrency + 2),
    noHandleSignals: true,
    logger,
    preset: variant.startsWith("tuned")
      ? { worker: { localQueue: { size: Math.max(concurrency + 1, 100) }, completeJobBatchDelay: 0 } }
      : undefined,
  }));
}

/**
 * Variant "tuned-priority": the tuned runner, each job with the priority Zart's "priority" variant gives
 * execution i (`priorityOf`). graphile-worker runs lower numbers first, so the job gets its negation: the
 * same order as Zart's (higher first), and the same mix of positions in the table.
 */
function jobPriority(i: number, variant: string | undefined): { priority?: number } {
  return variant === "tuned-priority" ? { priority: -priorityOf(i) } : {};
}

async function enqueue(target: Target, workload: ThroughputWorkload, n: number, { mode, variant }: EnqueueOptions = {}): Promise<number> {
  const { makeWorkerUtils } = await lib();
  const utils = await makeWorkerUtils({ connectionString: postgresUrl(target), logger: await quietLogger() });
  const task = firstTask(chainWorkload(workload));
  try {
    return await timed(async () => {
      if (mode === "sequential") {
        for (let i = 0; i < n; i++) await utils.addJob(task, { i });
      } else if (mode === "concurrent50") {
        await pooled(n, 50, (i) => utils.addJob(task, { i }));
      } else {
        // Bulk prefill and the "batch" figure: addJobs in batches of 1000 rows.
        for (let start = 0; start < n; start += 1000) {
          const specs = Array.from({ length: Math.min(1000, n - start) }, (_, k) => ({
            identifier: task,
            payload: { i: start + k },
            ...jobPriority(start + k, variant),
          }));
          await utils.addJobs(specs);
        }
      }
    });
  } finally {
    await utils.release();
  }
}

async function drain(target: Target, config: ThroughputConfig): Promise<DrainResult> {
  const { run } = await lib();
  const url = postgresUrl(target);
  const tally = new OutputTally(config.workload, config.n);
  const allRan = deferred();
  const options = await runnerOptions(url, config.concurrency, config.variant);
  options.taskList = taskList(chainWorkload(config.workload), (i, output) => {
    tally.record(i, output);
    if (tally.done) allRan.resolve();
  });
  const started = performance.now();
  const runner = await run(options);
  await allRan.promise;
  // Durably complete = graphile has deleted every job row (completion is written after the handler).
  const polls = await withClient(url, (client) =>
    waitUntil(
      async () => (await client.query("select count(*)::int as n from graphile_worker.jobs")).rows[0].n === 0,
      5,
      60_000,
      "graphile jobs table to empty",
    ),
  );
  const elapsedMs = performance.now() - started;
  await runner.stop();
  return { elapsedMs, tally: tally.summary(), rssPeak: peakRss(), ownTransactions: polls };
}

/**
 * Caller and an idle worker (concurrency 10) in one process; completion is graphile's `job:complete`
 * event for the last job, emitted after the job row is deleted.
 */
async function latency(target: Target, config: LatencyConfig): Promise<LatencyResult> {
  const { run, makeWorkerUtils } = await lib();
  const url = postgresUrl(target);
  const total = config.samples + config.warmup;
  const tally = new OutputTally(config.workload, total);
  const waiting = new Map<number, () => void>();
  const options = await runnerOptions(url, 10, "default");
  options.taskList = taskList(config.workload, (i, output) => tally.record(i, output));
  const runner: Runner = await run(options);
  const last = config.workload === "w0" ? "w0" : "c";
  runner.events.on("job:complete", ({ job, error }: { job: Job; error: unknown }) => {
    if (job.task_identifier !== last || error) return;
    waiting.get((job.payload as Payload).i)?.();
  });
  const utils = await makeWorkerUtils({ connectionString: url, logger: await quietLogger() });
  const samplesMs: number[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const done = deferred();
      waiting.set(i, () => done.resolve());
      const started = performance.now();
      await utils.addJob(firstTask(config.workload), { i });
      await done.promise;
      if (i >= config.warmup) samplesMs.push(performance.now() - started);
      waiting.delete(i);
    }
  } finally {
    await utils.release();
    await runner.stop();
  }
  return { samplesMs, tally: tally.summary() };
}

export const graphileSystem: BenchSystem = {
  id: "graphile",
  storage: "postgres",
  async label() {
    return `graphile-worker ${packageVersion("graphile-worker")}`;
  },
  async migrate(target) {
    const { runMigrations } = await lib();
    await runMigrations({ connectionString: postgresUrl(target), logger: await quietLogger() });
  },
  throughputConfigs(mode: Mode, figure: ThroughputFigure): ThroughputConfig[] {
    if (figure === "w20") {
      const nW20 = { tiny: 10, quick: 100, full: 300 }[mode];
      return [10, 50].map((concurrency) => ({ workload: "w20", concurrency, variant: "default", n: nW20 }));
    }
    const nTuned = { tiny: 200, quick: 5000, full: 40000 }[mode];
    if (figure === "w0-features") {
      // The peer's own cost of the same priority mix, beside its tuned W0 (the throughput figure's cells).
      return [10, 50].flatMap((concurrency) =>
        ["tuned", "tuned-priority"].map((variant) => ({ workload: "w0" as const, concurrency, variant, n: nTuned })),
      );
    }
    if (figure !== "throughput") return [];
    const n = { tiny: 50, quick: 600, full: 2000 }[mode];
    const nChain = { tiny: 30, quick: 300, full: 2000 }[mode];
    const configs: ThroughputConfig[] = [
      { workload: "w0", concurrency: 10, variant: "default", n },
      { workload: "w0", concurrency: 50, variant: "default", n },
      { workload: "w1", concurrency: 10, variant: "default", n: nChain },
      { workload: "w1", concurrency: 50, variant: "default", n: nChain },
      { workload: "w0", concurrency: 10, variant: "tuned", n: nTuned },
      { workload: "w0", concurrency: 50, variant: "tuned", n: nTuned },
    ];
    // The tuned chain is no target's baseline: full mode only, to keep the quick run short.
    if (mode === "full") configs.push({ workload: "w1", concurrency: 50, variant: "tuned", n: nChain });
    return configs;
  },
  latencyConfigs(mode: Mode): LatencyConfig[] {
    const samples = { tiny: 10, quick: 60, full: 200 }[mode];
    return [
      { workload: "w0", variant: "latency", samples, warmup: LATENCY_WARMUP[mode] },
      { workload: "w1", variant: "latency", samples, warmup: LATENCY_WARMUP[mode] },
    ];
  },
  enqueueModes: () => ["sequential", "concurrent50", "batch"],
  enqueue,
  drain,
  // graphile deletes finished jobs and keeps no output: the handler tally is the check.
  storedOutputs: async () => null,
  latency,
  describeVariant(variant) {
    if (variant === "tuned") return "tuned: localQueue=max(C+1,100), completeJobBatchDelay=0";
    if (variant === "tuned-priority") return "tuned, priority 0-9 per job (the same fixed hash of i as Zart's)";
    return variant === "latency" ? "C=10, completion = job:complete event of the last job" : "default (LISTEN/NOTIFY)";
  },
};
