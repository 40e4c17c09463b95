/**
 * Throughput records grouped into rows (median over runs, min–max), and the lookups the tables and the
 * target checks share.
 */
import type { Results, ThroughputRecord } from "./results.js";
import { fmt, type Spread, spread } from "./stats.js";

export interface TargetResult {
  target: string;
  measured: string;
  threshold: string;
  status: "pass" | "miss" | "n/a";
}

export function verdict(value: number, ok: (v: number) => boolean): TargetResult["status"] {
  return Number.isFinite(value) ? (ok(value) ? "pass" : "miss") : "n/a";
}

export interface ThroughputRow {
  key: string;
  first: ThroughputRecord;
  rate: Spread;
  tx: Spread;
  rss: Spread;
  ok: boolean;
}

export function times(value: number): string {
  return Number.isFinite(value) ? `${fmt(value)}×` : "-";
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const SYSTEM_ORDER = ["zart-pg", "zart-sqlite", "dbos", "graphile", "pgboss", "fastify", "zart-server"];
export const bySystem = (a: { system: string }, b: { system: string }) => SYSTEM_ORDER.indexOf(a.system) - SYSTEM_ORDER.indexOf(b.system);

export function throughputRows(results: Results): ThroughputRow[] {
  const rows: ThroughputRow[] = [];
  for (const [key, records] of groupBy(results.throughput, (r) => `${r.system}|${r.workload}|${r.variant}|${r.concurrency}`)) {
    rows.push({
      key,
      first: records[0]!,
      rate: spread(records.map((r) => r.perSecond)),
      tx: spread(records.map((r) => r.txPerExecution ?? Number.NaN)),
      rss: spread(records.map((r) => r.workerRssPeakMb)),
      ok: records.every((r) => r.check.ok),
    });
  }
  return rows.sort((a, b) => bySystem(a.first, b.first) || a.first.workload.localeCompare(b.first.workload));
}

export function findRow(
  rows: readonly ThroughputRow[],
  system: string,
  workload: string,
  concurrency: number,
  variant?: string,
): ThroughputRow | undefined {
  return rows.find(
    (r) =>
      r.first.system === system &&
      r.first.workload === workload &&
      r.first.concurrency === concurrency &&
      (variant === undefined || r.first.variant === variant),
  );
}

export function findRate(rows: readonly ThroughputRow[], system: string, workload: string, concurrency: number, variant?: string): number {
  return findRow(rows, system, workload, concurrency, variant)?.rate.median ?? Number.NaN;
}

/** DBOS's queue with its 10 ms poll: the peer baseline of the ÷ DBOS columns. */
export function dbosBaseline(rows: readonly ThroughputRow[], row: ThroughputRow): number {
  return findRate(rows, "dbos", row.first.workload, row.first.concurrency, "poll10");
}

/**
 * W0 variants that use a workflow feature; their own table compares them with plain W0. "tuned-priority" is
 * graphile-worker's tuned runner with the same priority mix: the peer's own cost of priorities.
 */
export const W0_FEATURE_VARIANTS = ["priority", "keyed", "tuned-priority"];

/** The plain W0 variant a feature variant is compared with (the same system's runner without the feature). */
export function plainVariantOf(variant: string): string {
  return variant === "tuned-priority" ? "tuned" : "default";
}

/** Rows of the main throughput table (W0, W1, W20); the other figures have tables of their own. */
export function isMainThroughput(r: ThroughputRecord): boolean {
  return ["w0", "w1", "w20"].includes(r.workload) && !W0_FEATURE_VARIANTS.includes(r.variant);
}
