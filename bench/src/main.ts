/**
 * `npm run bench` (quick) and `npm run bench:full`: runs the suite, writes bench/results/<timestamp>.json,
 * prints the tables and targets, and (full mode) renders BENCHMARKS.md.
 *
 *   tsx src/main.ts --mode quick|full|tiny [--systems zart-pg,dbos,…] [--figures throughput,w20,latency,…]
 *                   [--runs 3] [--out file.json] [--write-benchmarks ../BENCHMARKS.md] [--keep]
 *                   [--stored 1000000] [--sleepers 100000] [--polls 10000]   (override the mode's sizes)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { commitYardstickCell } from "./commit-yardstick.js";
import { extraCells } from "./extra-figures.js";
import { PgAdmin } from "./pg-admin.js";
import { printReport } from "./report.js";
import { emptyResults, type Machine, type Results } from "./results.js";
import { type Cell, type Context, enqueueCell, FIGURES, type Figure, latencyCell, roundRobin, throughputCell, wakeCell } from "./runner.js";
import { ALL_IDS, loadSystem } from "./systems/index.js";
import { type BenchSystem, type EnqueueMode, type Mode, THROUGHPUT_FIGURES, type ThroughputConfig, WAKE_WARMUP } from "./systems/types.js";
import { Targets } from "./targets.js";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Options {
  mode: Mode;
  systems: string[];
  figures: Set<Figure>;
  runs: number;
  out: string;
  writeBenchmarks: string | null;
  keep: boolean;
  sizes: Context["sizes"];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: "string", default: "quick" },
      systems: { type: "string" },
      figures: { type: "string" },
      runs: { type: "string" },
      out: { type: "string" },
      "write-benchmarks": { type: "string" },
      keep: { type: "boolean", default: false },
      stored: { type: "string" },
      sleepers: { type: "string" },
      polls: { type: "string" },
    },
  });
  const mode = values.mode as Mode;
  if (!["tiny", "quick", "full"].includes(mode)) throw new Error(`--mode must be tiny, quick or full (got ${mode})`);
  const systems = values.systems ? values.systems.split(",") : [...ALL_IDS];
  const figures = new Set((values.figures ? values.figures.split(",") : [...FIGURES]) as Figure[]);
  for (const f of figures) if (!FIGURES.includes(f)) throw new Error(`unknown figure "${f}" (known: ${FIGURES.join(", ")})`);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    mode,
    systems,
    figures,
    runs: values.runs ? Number(values.runs) : mode === "full" ? 3 : 1,
    out: values.out ?? join(BENCH_DIR, "results", `${stamp}-${mode}.json`),
    writeBenchmarks: values["write-benchmarks"] ?? null,
    keep: values.keep ?? false,
    sizes: {
      stored: values.stored ? Number(values.stored) : undefined,
      sleepers: values.sleepers ? Number(values.sleepers) : undefined,
      polls: values.polls ? Number(values.polls) : undefined,
    },
  };
}

async function machine(admin: PgAdmin | null): Promise<Machine> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${release()}`,
    postgres: admin ? await admin.serverVersion() : null,
    postgresSettings: admin ? await admin.settings() : {},
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * Postgres is optional: a SQLite-only run (the smoke test) needs no server, and when the server cannot be
 * reached the Postgres systems are dropped with a note instead of failing the whole bench.
 */
async function connectAdmin(systems: readonly BenchSystem[], notes: string[]): Promise<PgAdmin | null> {
  if (!systems.some((s) => s.storage === "postgres")) return null;
  try {
    return await PgAdmin.connect();
  } catch (error) {
    notes.push(`PostgreSQL not reachable (${(error as Error).message}); Postgres systems skipped. Set BENCH_DATABASE_URL.`);
    return null;
  }
}

/**
 * The selected throughput figures' configurations, each once: a figure may repeat another's cell as its
 * baseline (w0-features lists plain W0) so that it can run alone.
 */
function throughputConfigs(system: BenchSystem, mode: Mode, figures: ReadonlySet<Figure>): ThroughputConfig[] {
  const seen = new Map<string, ThroughputConfig>();
  for (const figure of THROUGHPUT_FIGURES) {
    if (!figures.has(figure)) continue;
    for (const c of system.throughputConfigs(mode, figure)) seen.set(`${c.workload}|${c.concurrency}|${c.variant}|${c.n}`, c);
  }
  return [...seen.values()];
}

/** Calls per enqueue cell. 50 in flight runs long enough to be past the JIT's warm-up; one at a time stays
 * short for the slower peers. */
const ENQUEUE_N: Record<EnqueueMode, Record<Mode, number>> = {
  sequential: { tiny: 30, quick: 300, full: 2000 },
  concurrent50: { tiny: 30, quick: 2000, full: 10000 },
  batch: { tiny: 200, quick: 5000, full: 10000 },
};

function engineCells(ctx: Context, options: Options, system: BenchSystem, label: string): Cell[] {
  const cells: Cell[] = [];
  const { mode, figures } = options;
  for (const c of throughputConfigs(system, mode, figures)) cells.push(throughputCell(ctx, system, label, c));
  if (figures.has("enqueue")) {
    for (const m of system.enqueueModes()) {
      cells.push(enqueueCell(ctx, system, label, m, ENQUEUE_N[m][mode]));
    }
  }
  if (figures.has("latency")) for (const c of system.latencyConfigs(mode)) cells.push(latencyCell(ctx, system, label, c));
  if (figures.has("latency") && system.id === "zart-pg") cells.push(commitYardstickCell(ctx, system));
  if (figures.has("wake") && system.eventWake) {
    cells.push(wakeCell(ctx, system, label, { tiny: 5, quick: 40, full: 100 }[mode], WAKE_WARMUP[mode]));
  }
  return cells;
}

/** Cells interleaved across systems (first cell of each, then second of each, …) so drift spreads evenly. */
function interleave(lists: Cell[][]): Cell[] {
  const out: Cell[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let k = 0; k < longest; k++) {
    for (const l of lists) {
      const cell = l[k];
      if (cell) out.push(cell);
    }
  }
  return out;
}

/** Labels each system and builds its template; a system whose template fails is reported and left out. */
async function prepareSystems(ctx: Context, options: Options, systems: readonly BenchSystem[]): Promise<Cell[][]> {
  const perSystem: Cell[][] = [];
  for (const system of systems) {
    const label = await system.label();
    ctx.results.versions[system.id] = label;
    try {
      await ctx.targets.buildTemplate(system);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      ctx.results.failures.push({ cell: `template ${system.id}`, run: 0, error: message.slice(0, 2000) });
      ctx.log(`FAILED template ${system.id}: ${message.split("\n")[0]}`);
      continue;
    }
    perSystem.push(engineCells(ctx, options, system, label));
  }
  return perSystem;
}

export async function main(argv: string[]): Promise<Results> {
  const options = parseOptions(argv);
  const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const wanted = await Promise.all(options.systems.map(loadSystem));
  const notes: string[] = [];
  const admin = await connectAdmin(wanted, notes);
  const systems = admin ? wanted : wanted.filter((s) => s.storage !== "postgres");
  const results = emptyResults(options.mode, options.runs, await machine(admin));
  results.notes.push(...notes);
  for (const note of notes) log(note);
  const targets = new Targets(admin);
  const ctx: Context = { mode: options.mode, sizes: options.sizes, targets, results, log };
  log(`mode ${options.mode}, ${options.runs} run(s), systems ${options.systems.join(", ")}, figures ${[...options.figures].join(", ")}`);
  try {
    const perSystem = await prepareSystems(ctx, options, systems);
    await roundRobin(ctx, interleave(perSystem), options.runs);
    const extra = await extraCells(
      ctx,
      options.figures,
      systems.map((s) => s.id),
    );
    await roundRobin(ctx, extra, options.runs);
  } finally {
    if (!options.keep) await targets.cleanup(systems).catch(() => {});
    await admin?.close();
  }
  results.finishedAt = new Date().toISOString();
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  printReport(results);
  log(`results written to ${options.out}`);
  if (options.writeBenchmarks) {
    const { renderBenchmarks } = await import("./render-benchmarks.js");
    writeFileSync(options.writeBenchmarks, renderBenchmarks(results, options.out));
    log(`BENCHMARKS.md written to ${options.writeBenchmarks}`);
  }
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (results) => process.exit(results.failures.length > 0 ? 1 : 0),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
