/**
 * Builds the list of measurements ("cells") and runs them round-robin: every cell once, then again,
 * `runs` times, so drift on a shared machine spreads over all systems instead of favouring one.
 * A failing cell is recorded and skipped; the others go on.
 */
import { runInChild } from "./child.js";
import type { EnqueueRecord, LatencyRecord, Results, ThroughputRecord } from "./results.js";
import { summariseLatency } from "./stats.js";
import {
  type BenchSystem,
  type DrainResult,
  type EnqueueMode,
  type LatencyConfig,
  type LatencyResult,
  type Mode,
  THROUGHPUT_FIGURES,
  type ThroughputConfig,
} from "./systems/types.js";
import type { Targets } from "./targets.js";
import { checkOutputs, type OutputCheck } from "./workloads.js";

export const FIGURES = [...THROUGHPUT_FIGURES, "enqueue", "latency", "wake", "http", "scale", "memory", "retention"] as const;
export type Figure = (typeof FIGURES)[number];

export interface Cell {
  name: string;
  run(runIndex: number): Promise<void>;
}

export interface Context {
  mode: Mode;
  /** Overrides of the mode's sizes for the scale and memory figures (--stored, --sleepers, --polls). */
  sizes: { stored?: number; sleepers?: number; polls?: number };
  targets: Targets;
  results: Results;
  log: (line: string) => void;
}

const MINUTE = 60_000;

function mergeChecks(primary: OutputCheck, stored: OutputCheck | null): OutputCheck {
  if (!stored || stored.ok) return primary;
  return { ...primary, ok: false, detail: `handlers: ${primary.detail}; stored outputs: ${stored.detail}` };
}

export function throughputCell(ctx: Context, system: BenchSystem, label: string, config: ThroughputConfig): Cell {
  const name = `throughput ${system.id} ${config.workload} C=${config.concurrency} ${config.variant} N=${config.n}`;
  return {
    name,
    async run(runIndex) {
      const target = await ctx.targets.fresh(system);
      // Prefill and read-back are untimed, so they run here (saving two process start-ups per run);
      // only the drain, the timed part, needs a process of its own.
      await system.enqueue(target, config.workload, config.n, { variant: config.variant });
      const before = await ctx.targets.commits(target);
      const { result } = await runInChild<DrainResult>({ op: "drain", system: system.id, target, config }, 15 * MINUTE);
      const after = await ctx.targets.commits(target);
      const stored = await system.storedOutputs(target, config);
      const check = mergeChecks(
        checkOutputs(config.workload, config.n, result.tally),
        stored ? checkOutputs(config.workload, config.n, stored) : null,
      );
      const record: ThroughputRecord = {
        system: system.id,
        label,
        storage: system.storage,
        workload: config.workload,
        variant: config.variant,
        settings: system.describeVariant(config.variant),
        concurrency: config.concurrency,
        n: config.n,
        run: runIndex,
        elapsedMs: result.elapsedMs,
        perSecond: config.n / (result.elapsedMs / 1000),
        txPerExecution: before === null || after === null ? null : (after - before - (result.ownTransactions ?? 0)) / config.n,
        workerRssPeakMb: result.rssPeak / 2 ** 20,
        check,
      };
      ctx.results.throughput.push(record);
      ctx.log(`${name}: ${record.perSecond.toFixed(0)}/s, tx/exec ${record.txPerExecution?.toFixed(2) ?? "-"}, check ${check.detail}`);
      if (!check.ok) throw new Error(`output check failed: ${check.detail}`);
    },
  };
}

export function enqueueCell(ctx: Context, system: BenchSystem, label: string, mode: EnqueueMode, n: number): Cell {
  const name = `enqueue ${system.id} ${mode} N=${n}`;
  return {
    name,
    async run(runIndex) {
      const target = await ctx.targets.fresh(system);
      const { result } = await runInChild<{ elapsedMs: number }>(
        { op: "enqueue", system: system.id, target, workload: "w0", n, mode },
        10 * MINUTE,
      );
      const record: EnqueueRecord = {
        system: system.id,
        label,
        storage: system.storage,
        mode,
        n,
        run: runIndex,
        perSecond: n / (result.elapsedMs / 1000),
      };
      ctx.results.enqueue.push(record);
      ctx.log(`${name}: ${record.perSecond.toFixed(0)}/s`);
    },
  };
}

function latencyRecord(
  system: BenchSystem,
  label: string,
  workload: string,
  variant: string,
  runIndex: number,
  result: LatencyResult,
  check: OutputCheck,
): LatencyRecord {
  const s = summariseLatency(result.samplesMs);
  return {
    system: system.id,
    label,
    storage: system.storage,
    workload,
    variant,
    settings: system.describeVariant(variant),
    run: runIndex,
    samples: s.samples,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    workerSideP50: result.workerSideMs ? summariseLatency(result.workerSideMs).p50 : null,
    check,
  };
}

export function latencyCell(ctx: Context, system: BenchSystem, label: string, config: LatencyConfig): Cell {
  const name = `latency ${system.id} ${config.workload} ${config.variant} samples=${config.samples}`;
  return {
    name,
    async run(runIndex) {
      const target = await ctx.targets.fresh(system);
      const { result } = await runInChild<LatencyResult>({ op: "latency", system: system.id, target, config }, 10 * MINUTE);
      const check = checkOutputs(config.workload, config.samples + config.warmup, result.tally);
      const record = latencyRecord(system, label, config.workload, config.variant, runIndex, result, check);
      ctx.results.latency.push(record);
      ctx.log(`${name}: p50 ${record.p50.toFixed(2)} ms, p99 ${record.p99.toFixed(2)} ms, check ${check.detail}`);
      if (!check.ok) throw new Error(`output check failed: ${check.detail}`);
    },
  };
}

export function wakeCell(ctx: Context, system: BenchSystem, label: string, samples: number, warmup: number): Cell {
  const name = `event wake ${system.id} samples=${samples}`;
  return {
    name,
    async run(runIndex) {
      const target = await ctx.targets.fresh(system);
      const { result } = await runInChild<LatencyResult>({ op: "wake", system: system.id, target, samples, warmup }, 10 * MINUTE);
      const check = checkOutputs("w3", samples + warmup, result.tally);
      const record = latencyRecord(system, label, "w3", "event", runIndex, result, check);
      ctx.results.latency.push(record);
      ctx.log(`${name}: p50 ${record.p50.toFixed(2)} ms, check ${check.detail}`);
      if (!check.ok) throw new Error(`output check failed: ${check.detail}`);
    },
  };
}

/** Runs every cell once per round, `runs` rounds; failures are recorded, not fatal. */
export async function roundRobin(ctx: Context, cells: readonly Cell[], runs: number): Promise<void> {
  if (cells.length === 0) return;
  for (let run = 1; run <= runs; run++) {
    ctx.log(`── round ${run}/${runs} (${cells.length} measurements)`);
    for (const cell of cells) {
      try {
        await cell.run(run);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.results.failures.push({ cell: cell.name, run, error: message.slice(0, 2000) });
        ctx.log(`FAILED ${cell.name}: ${message.split("\n")[0]}`);
      }
    }
  }
}
