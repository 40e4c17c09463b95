/**
 * pg-boss 10: a Postgres job queue that only polls (0.5 s is the lowest interval it accepts) and has no
 * per-worker concurrency option, so concurrency C = C `work()` loops with batchSize 1 ("shape=workers").
 * Variant "batch" is one loop with batchSize 1000. W1 runs as a chain of three jobs (a queue each, C loops
 * each); W20 as a chain of twenty jobs on one queue (C loops), each job enqueueing the next step.
 * Its figures need small N: a loop sleeps the full interval after every fetch.
 */
import type PgBoss from "pg-boss";
import { deferred, jitterGap, packageVersion, peakRss, pooled, postgresUrl, timed, waitUntil, withClient } from "../util.js";
import { chainLength, chainStep, OutputTally, stepA, stepB, stepC, type ThroughputWorkload, w0 } from "../workloads.js";
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

/** W1 carries a and b down the chain; W20 carries the step index j and its input x. */
type Payload = { i: number; a?: number; b?: number; j?: number; x?: number };

const POLL_SECONDS = 0.5;
const QUEUES = { w0: ["w0"], w1: ["a", "b", "c"], w20: ["w20"] } as const;
const W20_STEPS = chainLength("w20")!;

type ChainWorkload = keyof typeof QUEUES;

function chainWorkload(workload: ThroughputWorkload): ChainWorkload {
  if (workload === "w0" || workload === "w1" || workload === "w20") return workload;
  throw new Error(`pg-boss runs w0, w1 and w20 only (not ${workload})`);
}

/** Job rows one execution leaves: one per hop of its chain. */
function jobsPer(workload: ChainWorkload): number {
  return workload === "w0" ? 1 : workload === "w1" ? 3 : W20_STEPS;
}

async function newBoss(url: string): Promise<PgBoss> {
  const { default: PgBossClass } = await import("pg-boss");
  const boss = new PgBossClass({ connectionString: url });
  boss.on("error", (error: Error) => console.error(`[pg-boss] ${error.message}`));
  return boss;
}

/** Starts the handlers: C loops of batchSize 1, or one loop of batchSize 1000 for "batch". */
async function startWork(
  boss: PgBoss,
  workload: ChainWorkload,
  loops: number,
  batchSize: number,
  onOutput: (i: number, output: number) => void,
): Promise<void> {
  const options = { batchSize, pollingIntervalSeconds: POLL_SECONDS };
  const handlers: Record<string, (p: Payload) => Promise<void>> = {
    w0: { w0: async (p: Payload) => onOutput(p.i, w0(p)) },
    w1: {
      a: async (p: Payload) => void (await boss.send("b", { i: p.i, a: stepA(p.i) })),
      b: async (p: Payload) => void (await boss.send("c", { i: p.i, b: stepB(p.a!) })),
      c: async (p: Payload) => onOutput(p.i, stepC(p.b!)),
    },
    w20: {
      w20: async (p: Payload) => {
        const j = p.j ?? 0;
        const x = chainStep(p.x ?? p.i, j);
        if (j + 1 < W20_STEPS) await boss.send("w20", { i: p.i, j: j + 1, x });
        else onOutput(p.i, x);
      },
    },
  }[workload];
  for (const [queue, handle] of Object.entries(handlers)) {
    for (let k = 0; k < loops; k++) {
      await boss.work<Payload>(queue, options, async (jobs) => {
        await Promise.all(jobs.map((job) => handle(job.data)));
      });
    }
  }
}

async function enqueue(target: Target, workload: ThroughputWorkload, n: number, { mode }: EnqueueOptions = {}): Promise<number> {
  const boss = await newBoss(postgresUrl(target));
  await boss.start();
  const queue = QUEUES[chainWorkload(workload)][0];
  try {
    return await timed(async () => {
      if (mode === "sequential") {
        for (let i = 0; i < n; i++) await boss.send(queue, { i });
      } else if (mode === "concurrent50") {
        await pooled(n, 50, (i) => boss.send(queue, { i }));
      } else {
        for (let start = 0; start < n; start += 1000) {
          const jobs = Array.from({ length: Math.min(1000, n - start) }, (_, k) => ({ name: queue, data: { i: start + k } }));
          await boss.insert(jobs);
        }
      }
    });
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

async function drain(target: Target, config: ThroughputConfig): Promise<DrainResult> {
  const url = postgresUrl(target);
  const tally = new OutputTally(config.workload, config.n);
  const allRan = deferred();
  const boss = await newBoss(url);
  const batch = config.variant === "batch";
  const started = performance.now();
  await boss.start();
  const workload = chainWorkload(config.workload);
  await startWork(boss, workload, batch ? 1 : config.concurrency, batch ? config.concurrency : 1, (i, output) => {
    tally.record(i, output);
    if (tally.done) allRan.resolve();
  });
  await allRan.promise;
  // Durably complete = every job row (one per hop) is marked completed; pg-boss writes that after the handler.
  const jobs = jobsPer(workload) * config.n;
  const polls = await withClient(url, (client) =>
    waitUntil(
      async () => (await client.query("select count(*)::int as n from pgboss.job where state = 'completed'")).rows[0].n >= jobs,
      5,
      60_000,
      "pg-boss jobs to be completed",
    ),
  );
  const elapsedMs = performance.now() - started;
  await boss.stop({ graceful: false, wait: true });
  return { elapsedMs, tally: tally.summary(), rssPeak: peakRss(), ownTransactions: polls };
}

/** One loop per queue, caller in the same process; completion = the last handler has run. */
async function latency(target: Target, config: LatencyConfig): Promise<LatencyResult> {
  const url = postgresUrl(target);
  const total = config.samples + config.warmup;
  const tally = new OutputTally(config.workload, total);
  const waiting = new Map<number, () => void>();
  const worker = await newBoss(url);
  await worker.start();
  await startWork(worker, config.workload, 1, 1, (i, output) => {
    tally.record(i, output);
    waiting.get(i)?.();
  });
  const caller = await newBoss(url);
  await caller.start();
  const samplesMs: number[] = [];
  try {
    for (let i = 0; i < total; i++) {
      // Without a random gap every sample would land just after a poll and wait one full interval.
      await jitterGap(POLL_SECONDS * 1000);
      const done = deferred();
      waiting.set(i, () => done.resolve());
      const started = performance.now();
      await caller.send(QUEUES[config.workload][0], { i });
      await done.promise;
      if (i >= config.warmup) samplesMs.push(performance.now() - started);
    }
  } finally {
    await caller.stop({ graceful: false, wait: true });
    await worker.stop({ graceful: false, wait: true });
  }
  return { samplesMs, tally: tally.summary() };
}

export const pgbossSystem: BenchSystem = {
  id: "pgboss",
  storage: "postgres",
  async label() {
    return `pg-boss ${packageVersion("pg-boss")}`;
  },
  async migrate(target) {
    const boss = await newBoss(postgresUrl(target));
    await boss.start();
    for (const name of new Set(Object.values(QUEUES).flat())) await boss.createQueue(name);
    await boss.stop({ graceful: false, wait: true });
  },
  throughputConfigs(mode: Mode, figure: ThroughputFigure): ThroughputConfig[] {
    const scale = { tiny: 0.2, quick: 0.5, full: 1 }[mode];
    const n = (x: number) => Math.max(10, Math.round(x * scale));
    if (figure === "w20") {
      // Twenty polled hops per execution: 50 loops make ~100 hops/s, so N stays small. C=10: full mode only, like W1.
      const configs: ThroughputConfig[] = [
        { workload: "w20", concurrency: 50, variant: "workers", n: { tiny: 5, quick: 30, full: 60 }[mode] },
      ];
      if (mode === "full") configs.unshift({ workload: "w20", concurrency: 10, variant: "workers", n: 20 });
      return configs;
    }
    if (figure !== "throughput") return [];
    const configs: ThroughputConfig[] = [
      { workload: "w0", concurrency: 50, variant: "workers", n: n(300) },
      { workload: "w1", concurrency: 50, variant: "workers", n: n(300) },
      { workload: "w0", concurrency: 1000, variant: "batch", n: n(6000) },
    ];
    // At C=10 a run is bound by the poll interval alone (24 jobs/s): full mode only.
    if (mode === "full") {
      configs.unshift(
        { workload: "w0", concurrency: 10, variant: "workers", n: n(60) },
        { workload: "w1", concurrency: 10, variant: "workers", n: n(60) },
      );
    }
    return configs;
  },
  latencyConfigs(mode: Mode): LatencyConfig[] {
    return [
      { workload: "w0", variant: "latency", samples: { tiny: 3, quick: 10, full: 30 }[mode], warmup: 1 },
      { workload: "w1", variant: "latency", samples: { tiny: 2, quick: 4, full: 8 }[mode], warmup: 1 },
    ];
  },
  enqueueModes: () => ["sequential", "concurrent50", "batch"],
  enqueue,
  drain,
  // pg-boss keeps finished jobs as "completed" but stores no output we set: the handler tally is the check.
  storedOutputs: async () => null,
  latency,
  describeVariant(variant) {
    if (variant === "latency") return "one loop per queue, batchSize=1, poll=0.5s, gap=U(0,500ms)";
    return variant === "batch" ? "one loop, batchSize=C, poll=0.5s" : "shape=workers (C loops, batchSize=1), poll=0.5s";
  },
};
