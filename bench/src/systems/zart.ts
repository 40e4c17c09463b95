/**
 * Zart as installed: the compiled package in the repo's `dist/` (`npm run bench` builds it first), on PostgreSQL or SQLite.
 * W1 is one task with three `ctx.step` checkpoints; W3 parks on `ctx.waitForEvent`.
 * Latency "in-process" = `engine.schedule` then `engine.waitForTerminal` in the process that also runs
 * the worker (concurrency 10), the same shape as the peers' in-process callers.
 * W20 and the steps-per-execution chains are tasks of `ctx.step` checkpoints, "keyed" W0 a task with a
 * concurrency key, parent10 a task that `runChild`s ten children (see zart-tasks.ts).
 * Long because one adapter holds every operation of the system and the cell sizes of every figure.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Engine } from "../../../dist/engine/engine.js";
import type { WorkerOptions } from "../../../dist/engine/engine-options.js";
import { openStore } from "../../../dist/store/open-store.js";
import type { Store } from "../../../dist/store/store.js";
import { deferred, peakRss, pooled, sleep, timed, waitUntil } from "../util.js";
import {
  executionsPer,
  OutputTally,
  priorityOf,
  STEP_COUNTS,
  stepsWorkload,
  type TallySummary,
  type ThroughputWorkload,
} from "../workloads.js";
import { benchTasks, KEYS, observer, TASK_FOR, zartTaskFor } from "../zart-tasks.js";
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

const REPO = new URL("../../../", import.meta.url);
/** The "prefetch" variant's local buffer: graphile's tuned local queue holds max(C+1, 100), so 100 here. */
const PREFETCH = 100;

export function storeUrl(target: Target): string {
  return target.kind === "postgres" ? target.url : target.path;
}

function open(target: Target): Promise<Store> {
  return openStore(storeUrl(target), { schema: "zart" });
}

/** An engine over a fresh store handle; `worker` false = API only (the caller side). */
async function startEngine(target: Target, worker: false | WorkerOptions): Promise<{ engine: Engine; store: Store }> {
  const store = await open(target);
  const engine = await Engine.start({ store, tasks: benchTasks, worker, migrate: false });
  return { engine, store };
}

async function stopEngine(handle: { engine: Engine; store: Store }): Promise<void> {
  await handle.engine.stop();
  await handle.store.close();
}

/** "zart 0.1.0 (abc1234+dirty)": the engine under test is the working tree, so say which. */
function zartLabel(): string {
  const pkg = JSON.parse(readFileSync(new URL("package.json", REPO), "utf8")) as { version: string };
  let rev = "";
  try {
    const cwd = new URL(".", REPO).pathname;
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd, encoding: "utf8" }).trim() !== "";
    rev = ` (${sha}${dirty ? "+dirty" : ""})`;
  } catch {
    // not a git checkout
  }
  return `zart ${pkg.version}${rev}`;
}

/**
 * Variant "priority": execution i gets priority 0-9 from a fixed hash of i (`priorityOf`). Variant "keyed"
 * schedules the keyed task, whose key function spreads i over the keys.
 */
function priorityFor(i: number, variant: string | undefined): number | undefined {
  return variant === "priority" ? priorityOf(i) : undefined;
}

async function enqueue(target: Target, workload: ThroughputWorkload, n: number, options: EnqueueOptions = {}): Promise<number> {
  const handle = await startEngine(target, false);
  const task = zartTaskFor(workload, options.variant ?? "default");
  const request = (i: number) => ({ task, data: { i }, priority: priorityFor(i, options.variant) });
  try {
    return await timed(async () => {
      if (options.mode === "sequential") {
        for (let i = 0; i < n; i++) await handle.engine.schedule(request(i));
      } else if (options.mode === "concurrent50") {
        await pooled(n, 50, (i) => handle.engine.schedule(request(i)));
      } else {
        // Bulk prefill and the "batch" figure: scheduleMany in batches of 1000, like graphile's addJobs.
        for (let start = 0; start < n; start += 1000) {
          await handle.engine.scheduleMany(Array.from({ length: Math.min(1000, n - start) }, (_, k) => request(start + k)));
        }
      }
    });
  } finally {
    await stopEngine(handle);
  }
}

async function drain(target: Target, config: ThroughputConfig): Promise<DrainResult> {
  const tally = new OutputTally(config.workload, config.n);
  const allRan = deferred();
  observer.onOutput = (i, output) => {
    tally.record(i, output);
    if (tally.done) allRan.resolve();
  };
  // Load the store module first: like the peers' figures, the clock covers start-up but not module loading.
  await (target.kind === "postgres"
    ? import("../../../dist/store/postgres/postgres-store.js")
    : import("../../../dist/store/sqlite/sqlite-store.js"));
  const started = performance.now();
  // Stock settings (pool of 10): the worker batches checkpoints, it does not need a connection per slot.
  const store = await open(target);
  const worker: WorkerOptions = { concurrency: config.concurrency, prefetch: config.variant === "prefetch" ? PREFETCH : undefined };
  const engine = await Engine.start({ store, tasks: benchTasks, worker, migrate: false });
  await allRan.promise;
  // Durably complete = every execution in `completed` (the body returned before its completion commit);
  // a parent completes after its children, so parent10 waits for all of them.
  const executions = config.n * executionsPer(config.workload);
  const polls = await waitUntil(
    async () => (await store.countByStatus()).completed >= executions,
    2,
    60_000,
    "zart executions to complete",
  );
  const elapsedMs = performance.now() - started;
  await engine.stop();
  await store.close();
  observer.onOutput = null;
  return { elapsedMs, tally: tally.summary(), rssPeak: peakRss(), ownTransactions: polls };
}

/** Reads every completed execution of the workload's task back through the store and tallies its stored output. */
async function storedOutputs(target: Target, config: ThroughputConfig): Promise<TallySummary> {
  const store = await open(target);
  const tally = new OutputTally(config.workload, config.n);
  const task = zartTaskFor(config.workload, config.variant);
  try {
    for (let offset = 0; ; offset += 500) {
      const page = await store.listExecutions({ status: "completed", task, limit: 500, offset, order: "asc" });
      for (const e of page.executions)
        tally.record((JSON.parse(e.dataJson) as { i: number }).i, JSON.parse(e.outputJson ?? "null") as number);
      if (page.executions.length < 500) break;
    }
  } finally {
    await store.close();
  }
  return tally.summary();
}

async function latency(target: Target, config: LatencyConfig): Promise<LatencyResult> {
  const handle = await startEngine(target, { concurrency: 10 });
  const total = config.samples + config.warmup;
  const tally = new OutputTally(config.workload, total);
  const samplesMs: number[] = [];
  const returnedAt = new Map<number, number>();
  observer.onOutput = (i) => returnedAt.set(i, performance.now());
  const workerSideMs: number[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const started = performance.now();
      // The engine's default (eager start when this worker has a free slot), or queued for comparison.
      const eager = config.variant === "queued" ? false : undefined;
      const { execution } = await handle.engine.schedule({ task: TASK_FOR[config.workload], data: { i }, eager });
      const done = await handle.engine.waitForTerminal(execution.id, 30_000);
      const ended = performance.now();
      if (done.status !== "completed") throw new Error(`execution ${execution.id} ended ${done.status}`);
      tally.record(i, JSON.parse(done.outputJson ?? "null") as number);
      if (i >= config.warmup) {
        samplesMs.push(ended - started);
        workerSideMs.push((returnedAt.get(i) ?? Number.NaN) - started);
      }
    }
  } finally {
    observer.onOutput = null;
    await stopEngine(handle);
  }
  return { samplesMs, workerSideMs, tally: tally.summary() };
}

/** W3: wait until the execution is durably parked on "go", 20 ms more, then time deliver → terminal. */
async function eventWake(target: Target, samples: number, warmup: number): Promise<LatencyResult> {
  const handle = await startEngine(target, { concurrency: 10 });
  const total = samples + warmup;
  const tally = new OutputTally("w3", total);
  const samplesMs: number[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const { execution } = await handle.engine.schedule({ task: TASK_FOR.w3, data: { i } });
      await waitUntil(
        async () => {
          const e = await handle.engine.get(execution.id);
          return e.status === "waiting" && e.waitingForEvent === "go";
        },
        2,
        10_000,
        "the execution to park on its event",
      );
      await sleep(20);
      const started = performance.now();
      await handle.engine.deliverEvent(execution.id, "go", "0");
      const done = await handle.engine.waitForTerminal(execution.id, 30_000);
      const ended = performance.now();
      if (done.status !== "completed") throw new Error(`execution ${execution.id} ended ${done.status}`);
      tally.record(i, JSON.parse(done.outputJson ?? "null") as number);
      if (i >= warmup) samplesMs.push(ended - started);
    }
  } finally {
    await stopEngine(handle);
  }
  return { samplesMs, tally: tally.summary() };
}

/** The steps-per-execution figure runs at one concurrency, so only K varies. */
export const STEPS_CONCURRENCY = 10;

/** Cells per figure. Sizes: quick mode must stay a few minutes in all; full mode reproduces BENCHMARKS.md. */
function zartThroughputConfigs(pg: boolean, mode: Mode, figure: ThroughputFigure): ThroughputConfig[] {
  const n = pg ? { tiny: 50, quick: 2000, full: 10000 }[mode] : { tiny: 50, quick: 5000, full: 20000 }[mode];
  // Postgres W0 runs at graphile's tuned N, the cells it is compared with, so start-up weighs the same in both.
  const nW0 = pg ? { tiny: 200, quick: 5000, full: 40000 }[mode] : n;
  switch (figure) {
    case "throughput": {
      const configs: ThroughputConfig[] = [
        { workload: "w1", concurrency: 10, variant: "default", n },
        { workload: "w1", concurrency: 50, variant: "default", n },
        { workload: "w0", concurrency: 10, variant: "default", n: nW0 },
        { workload: "w0", concurrency: 50, variant: "default", n: nW0 },
      ];
      // A fixed prefetch, the counterpart of graphile's tuned local queue.
      if (pg) {
        configs.push(
          { workload: "w0", concurrency: 10, variant: "prefetch", n: nW0 },
          { workload: "w0", concurrency: 50, variant: "prefetch", n: nW0 },
        );
        configs.push({ workload: "w1", concurrency: 10, variant: "prefetch", n });
        if (mode === "full") configs.push({ workload: "w1", concurrency: 50, variant: "prefetch", n });
      }
      return configs;
    }
    case "w20": {
      const nW20 = pg ? { tiny: 20, quick: 500, full: 3000 }[mode] : { tiny: 20, quick: 1000, full: 5000 }[mode];
      return [10, 50].map((concurrency) => ({ workload: "w20", concurrency, variant: "default", n: nW20 }));
    }
    case "steps": {
      // About the same number of steps per cell, so every K runs about as long: at least 4 executions, at
      // most the W1 cells' N (K=1 is one execution's claim and completion more than its step).
      const budget = { tiny: 100, quick: 10_000, full: 20_000 }[mode];
      return STEP_COUNTS.map((k) => ({
        workload: stepsWorkload(k),
        concurrency: STEPS_CONCURRENCY,
        variant: "default",
        n: Math.min(n, Math.max(4, Math.round(budget / k))),
      }));
    }
    case "w0-features":
      // Plain W0 at the same C and N is the baseline (deduplicated with the throughput figure's cells).
      return [10, 50].flatMap((concurrency) =>
        ["default", "priority", "keyed"].map((variant) => ({ workload: "w0" as const, concurrency, variant, n: nW0 })),
      );
    case "children": {
      const parents = pg ? { tiny: 10, quick: 300, full: 2000 }[mode] : { tiny: 10, quick: 500, full: 3000 }[mode];
      return [{ workload: "parent10", concurrency: 10, variant: "default", n: parents }];
    }
  }
}

export function zartSystem(storage: "postgres" | "sqlite"): BenchSystem {
  const pg = storage === "postgres";
  return {
    id: pg ? "zart-pg" : "zart-sqlite",
    storage,
    async label() {
      return zartLabel();
    },
    async migrate(target) {
      const store = await open(target);
      await store.migrate();
      await store.close();
    },
    throughputConfigs(mode: Mode, figure: ThroughputFigure): ThroughputConfig[] {
      return zartThroughputConfigs(pg, mode, figure);
    },
    latencyConfigs(mode: Mode): LatencyConfig[] {
      const samples = { tiny: 10, quick: 100, full: 300 }[mode];
      const warmup = LATENCY_WARMUP[mode];
      return [
        { workload: "w0", variant: "in-process", samples, warmup },
        { workload: "w1", variant: "in-process", samples, warmup },
        { workload: "w0", variant: "queued", samples, warmup },
        { workload: "w1", variant: "queued", samples, warmup },
      ];
    },
    enqueueModes: () => ["sequential", "concurrent50", "batch"],
    enqueue,
    drain,
    storedOutputs,
    latency,
    eventWake,
    describeVariant(variant) {
      if (variant === "in-process")
        return "in-process (engine.schedule → engine.waitForTerminal; default eager start: run here at once, its insert carries its first write)";
      if (variant === "event") return "in-process (engine.deliverEvent → engine.waitForTerminal)";
      if (variant === "prefetch") return `prefetch=${PREFETCH} (claimed ahead into a leased local buffer)`;
      if (variant === "queued") return "in-process, queued (schedule({ eager: false }): insert, notice, claim)";
      if (variant === "priority") return "priority 0-9 per execution (a fixed hash of i), default worker";
      if (variant === "keyed") return `concurrency { limit: 1000, key } over ${KEYS} keys (never binds), default worker`;
      return pg ? "default (LISTEN/NOTIFY + group commit, prefetch auto)" : "default (one process, WAL, prefetch auto)";
    },
  };
}
