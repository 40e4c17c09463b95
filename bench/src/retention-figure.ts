/**
 * The retention figure's cells (PostgreSQL only; see retention.ts for what each process does). One run
 * measures two phases, each on a freshly filled database: "baseline" (the worker and the claims alone) and
 * "pruning" (the same while another process prunes the old executions). Odd runs measure the baseline
 * first, even runs the pruning phase first, so drift on a shared machine falls on both.
 */
import pg from "pg";
import { runInChild } from "./child.js";
import type { RetentionRecord } from "./results.js";
import type { ClaimMeasurement, DrainMeasurement, PruneMeasurement } from "./retention.js";
import type { Cell, Context } from "./runner.js";
import type { BenchSystem, Mode, Target } from "./systems/types.js";
import { sleep } from "./util.js";

const MINUTE = 60_000;
/** The shipped batch size (src/engine/resolve-options.ts); `BENCH_RETENTION_BATCH=n` measures another. */
export const RETENTION_BATCH = Number(process.env.BENCH_RETENTION_BATCH ?? 500);

const SIZES: Record<Mode, { stored: number; n: number; samples: number; warmup: number }> = {
  tiny: { stored: 5_000, n: 500, samples: 50, warmup: 10 },
  quick: { stored: 100_000, n: 5_000, samples: 500, warmup: 100 },
  full: { stored: 1_000_000, n: 20_000, samples: 2_000, warmup: 200 },
};

/** Old executions still stored, from the maintained counts (cheap at any size). */
async function remainingOld(target: Extract<Target, { kind: "postgres" }>): Promise<number> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string | null }>(
      `select sum(n) as n from (select n from zart.status_counts where task = 'bench-old'
         union all select delta from zart.count_deltas where task = 'bench-old') c`,
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

async function measurePhase(
  ctx: Context,
  system: BenchSystem,
  sizes: (typeof SIZES)[Mode],
  phase: "baseline" | "pruning",
  run: number,
): Promise<RetentionRecord> {
  const target = await ctx.targets.fresh(system);
  if (target.kind !== "postgres") throw new Error("the retention figure runs on PostgreSQL only");
  const { stored, n, samples, warmup } = sizes;
  await runInChild({ op: "retention-fill", system: system.id, target, stored, n, claims: samples + warmup }, 30 * MINUTE);
  let prune: Promise<{ result: PruneMeasurement }> | null = null;
  if (phase === "pruning") {
    prune = runInChild<PruneMeasurement>({ op: "retention-prune", system: system.id, target, batchSize: RETENTION_BATCH }, 120 * MINUTE);
    // Measure only once the round is deleting (its process has started and holds the lock).
    const deadline = Date.now() + 5 * MINUTE;
    while ((await remainingOld(target)) >= stored) {
      if (Date.now() > deadline) throw new Error("the prune round deleted nothing in 5 minutes");
      await sleep(50);
    }
  }
  const { result: drain } = await runInChild<DrainMeasurement>({ op: "retention-drain", system: system.id, target, n }, 30 * MINUTE);
  const { result: claims } = await runInChild<ClaimMeasurement>(
    { op: "retention-claims", system: system.id, target, samples, warmup },
    30 * MINUTE,
  );
  const record: RetentionRecord = {
    phase,
    run,
    stored,
    n,
    w0PerSecond: drain.perSecond,
    claimSamples: claims.samples,
    claimP50: claims.p50,
    claimP95: claims.p95,
    claimP99: claims.p99,
  };
  if (prune !== null) {
    record.remainingAtEnd = await remainingOld(target);
    const { result } = await prune;
    if (result.pruned !== stored) throw new Error(`the prune round deleted ${result.pruned} of ${stored} old executions`);
    Object.assign(record, { batchSize: result.batchSize, pruned: result.pruned, pruneMs: result.elapsedMs });
  }
  return record;
}

export function retentionCells(ctx: Context, systems: readonly BenchSystem[]): Cell[] {
  const system = systems.find((s) => s.id === "zart-pg");
  if (!system) {
    ctx.results.notes.push("retention figure skipped: it runs on zart-pg only");
    return [];
  }
  const base = SIZES[ctx.mode];
  const sizes = { ...base, stored: ctx.sizes.stored ?? base.stored };
  return [
    {
      name: `retention zart-pg stored=${sizes.stored}`,
      async run(run) {
        const order: ("baseline" | "pruning")[] = run % 2 === 1 ? ["baseline", "pruning"] : ["pruning", "baseline"];
        for (const phase of order) {
          const record = await measurePhase(ctx, system, sizes, phase, run);
          ctx.results.retention ??= [];
          ctx.results.retention.push(record);
          const pruning =
            record.pruneMs === undefined
              ? ""
              : `; pruned ${record.pruned} in ${(record.pruneMs / 1000).toFixed(1)} s, ${record.remainingAtEnd} left when measured`;
          ctx.log(
            `retention ${phase}: W0 ${record.w0PerSecond.toFixed(0)}/s, claim p50 ${record.claimP50.toFixed(2)} ms p99 ${record.claimP99.toFixed(2)} ms${pruning}`,
          );
        }
      },
    },
  ];
}
