/**
 * Tables and targets of the throughput figures beyond the engine-to-engine W0/W1/W20 table: checkpoint
 * cost by steps per execution, W0 with priorities and concurrency keys beside plain W0, and a parent
 * with ten children.
 */
import {
  bySystem,
  dbosBaseline,
  findRate,
  findRow,
  groupBy,
  plainVariantOf,
  type TargetResult,
  type ThroughputRow,
  throughputRows,
  times,
  verdict,
  W0_FEATURE_VARIANTS,
} from "./report-rows.js";
import type { Results } from "./results.js";
import { fmt, fmtSpread, ratio } from "./stats.js";
import type { Table } from "./table.js";
import { CHILDREN } from "./workloads.js";

const STORE_NAME: Record<string, string> = { postgres: "Postgres", sqlite: "SQLite" };

/** K of a `steps-K` row. */
function stepsOf(row: ThroughputRow): number {
  return Number(row.first.workload.slice("steps-".length));
}

function stepRows(rows: readonly ThroughputRow[]): ThroughputRow[] {
  return rows.filter((r) => r.first.workload.startsWith("steps-")).sort((a, b) => bySystem(a.first, b.first) || stepsOf(a) - stepsOf(b));
}

/** µs of worker time per step: elapsed per execution (1 / rate) ÷ K. */
function usPerStep(row: ThroughputRow): number {
  return 1e6 / (row.rate.median * stepsOf(row));
}

function txPerStep(row: ThroughputRow): number {
  return row.tx.median / stepsOf(row);
}

export function stepsTable(results: Results): Table {
  const rows = stepRows(throughputRows(results));
  const smallest = new Map<string, ThroughputRow>();
  for (const r of rows) if (!smallest.has(r.first.system)) smallest.set(r.first.system, r);
  return {
    title: "Checkpoint cost by steps per execution (Zart; K sequential steps, each checkpointed)",
    headers: [
      "system",
      "store",
      "K steps",
      "C",
      "N",
      "runs",
      "executions/s median (min–max)",
      "ms per execution",
      "µs per step",
      "÷ smallest K",
      "tx/execution",
      "tx/step",
      "outputs",
    ],
    rows: rows.map((r) => {
      const k = stepsOf(r);
      const base = smallest.get(r.first.system)!;
      return [
        r.first.label,
        r.first.storage,
        String(k),
        String(r.first.concurrency),
        String(r.first.n),
        String(r.rate.runs),
        fmtSpread(r.rate),
        fmt(1000 / r.rate.median),
        fmt(usPerStep(r)),
        times(ratio(usPerStep(r), usPerStep(base))),
        fmt(r.tx.median),
        fmt(txPerStep(r)),
        r.ok ? "ok" : "FAILED",
      ];
    }),
    notes: [
      "Flat = the per-step columns do not grow with K. `ms per execution` = elapsed ÷ N (1 / rate, C executions " +
        "overlapping); `µs per step` = that ÷ K, so at K=1 it carries the whole execution's claim and completion. " +
        "`÷ smallest K`: µs per step against the same store's smallest K. tx: Postgres only (xact_commit delta ÷ N, ÷ K).",
    ],
  };
}

export function w0FeaturesTable(results: Results): Table {
  const w0 = throughputRows(results).filter((r) => r.first.workload === "w0");
  // Per (system, C) where a feature variant ran: its plain W0 and its feature variants (plain W0 alone is in the main table).
  const groups = [...groupBy(w0, (r) => `${r.first.system}|${r.first.concurrency}`).values()].flatMap((g) => {
    const featured = g.filter((r) => W0_FEATURE_VARIANTS.includes(r.first.variant));
    const plains = new Set(featured.map((r) => plainVariantOf(r.first.variant)));
    return featured.length === 0 ? [] : [g.filter((r) => plains.has(r.first.variant) || featured.includes(r))];
  });
  const order = (variant: string) => (W0_FEATURE_VARIANTS.includes(variant) ? 1 + W0_FEATURE_VARIANTS.indexOf(variant) : 0);
  return {
    title: "W0 claim throughput with priorities and concurrency keys in use, beside plain W0 (executions/s)",
    headers: ["system", "store", "C", "settings", "N", "runs", "executions/s median (min–max)", "÷ plain W0", "tx/execution", "outputs"],
    rows: groups.flatMap((g) =>
      [...g]
        .sort((a, b) => order(a.first.variant) - order(b.first.variant))
        .map((r) => {
          const featured = W0_FEATURE_VARIANTS.includes(r.first.variant);
          const plain = findRate(
            w0,
            r.first.system,
            "w0",
            r.first.concurrency,
            featured ? plainVariantOf(r.first.variant) : r.first.variant,
          );
          return [
            r.first.label,
            r.first.storage,
            String(r.first.concurrency),
            featured ? r.first.settings : `plain W0: ${r.first.settings}`,
            String(r.first.n),
            String(r.rate.runs),
            fmtSpread(r.rate),
            times(ratio(r.rate.median, plain)),
            fmtSpread(r.tx),
            r.ok ? "ok" : "FAILED",
          ];
        }),
    ),
    notes: [
      "Same N, C and worker settings as plain W0, enqueued the same way (`scheduleMany` in batches of 1000). " +
        "priority: every execution has a priority 0-9, so claims order by it. keyed: a task with " +
        "`concurrency: { limit: 1000, key }` over 100 keys, so every claim and completion keeps the key's slot " +
        "count, but the limit never binds (nobody waits).",
      "graphile-worker's rows are the peer's yardstick, not a target: its tuned runner with the same priority " +
        "mix (`addJobs` in batches of 1000) beside its tuned W0. Running rows in priority order rather than in the " +
        "order they were inserted touches more table and index pages per batch (docs/decisions/041-priority-order-locality.md).",
    ],
  };
}

export function childrenTable(results: Results): Table {
  const all = throughputRows(results);
  const rows = all.filter((r) => r.first.workload === "parent10");
  return {
    title: `Parent + ${CHILDREN} children (the parent starts ${CHILDREN} children in parallel and returns their sum; parents/s)`,
    headers: [
      "system",
      "store",
      "C",
      "settings",
      "N parents",
      "runs",
      "parents/s median (min–max)",
      "executions/s",
      "÷ DBOS",
      "tx/parent",
      "outputs",
    ],
    rows: rows.map((r) => [
      r.first.label,
      r.first.storage,
      String(r.first.concurrency),
      r.first.settings,
      String(r.first.n),
      String(r.rate.runs),
      fmtSpread(r.rate),
      fmt(r.rate.median * (1 + CHILDREN)),
      times(ratio(r.rate.median, dbosBaseline(all, r))),
      fmtSpread(r.tx),
      r.ok ? "ok" : "FAILED",
    ]),
    notes: [
      `Zart: \`Promise.all\` over ${CHILDREN} \`ctx.runChild\` calls; each child is an execution of its own, claimed by the ` +
        "worker like any other (C bounds parents and children together; a parent waiting for its children holds no slot). " +
        `DBOS: the parent, taken from its queue, starts ${CHILDREN} child workflows with \`DBOS.startWorkflow\` (run at once ` +
        "in the same process, outside the queue and its concurrency) and awaits their `getResult`. " +
        `executions/s = parents/s × ${1 + CHILDREN}; tx/parent counts the children's transactions too.`,
    ],
  };
}

function w20Targets(rows: readonly ThroughputRow[]): TargetResult[] {
  const zart = findRow(rows, "zart-pg", "w20", 50, "default");
  const dbos = findRow(rows, "dbos", "w20", 50, "poll10");
  const r = ratio(zart?.rate.median ?? Number.NaN, dbos?.rate.median ?? Number.NaN);
  return [
    {
      target: "Postgres W20 (20 steps) throughput ≥ 10× DBOS (C=50)",
      measured: `${times(r)} (tx/execution: Zart ${fmt(zart?.tx.median)}, DBOS ${fmt(dbos?.tx.median)})`,
      threshold: "≥ 10×",
      status: verdict(r, (v) => v >= 10),
    },
  ];
}

function featureTargets(rows: readonly ThroughputRow[]): TargetResult[] {
  const out: TargetResult[] = [];
  const featured = rows
    .filter((r) => r.first.workload === "w0" && W0_FEATURE_VARIANTS.includes(r.first.variant) && r.first.system.startsWith("zart-"))
    .sort(
      (a, b) => bySystem(a.first, b.first) || a.first.variant.localeCompare(b.first.variant) || a.first.concurrency - b.first.concurrency,
    );
  for (const r of featured) {
    const plain = findRate(rows, r.first.system, "w0", r.first.concurrency, "default");
    const v = ratio(r.rate.median, plain);
    const what = r.first.variant === "priority" ? "priorities" : "concurrency keys";
    out.push({
      target: `${STORE_NAME[r.first.storage]} W0 with ${what} within 10% of plain W0 (C=${r.first.concurrency})`,
      measured: times(v),
      threshold: "≥ 0.9×",
      status: verdict(v, (x) => x >= 0.9),
    });
  }
  return out;
}

function childrenTargets(rows: readonly ThroughputRow[]): TargetResult[] {
  const zart = findRow(rows, "zart-pg", "parent10", 10);
  if (!zart) return [];
  const r = ratio(zart.rate.median, dbosBaseline(rows, zart));
  return [
    {
      target: `(shown) Postgres parent + ${CHILDREN} children ÷ DBOS child workflows (C=10)`,
      measured: times(r),
      threshold: "-",
      status: "n/a",
    },
  ];
}

/** Per store, the per-step cost at every K, so "flat from 1 to 200" reads in one line. */
function stepsContext(rows: readonly ThroughputRow[]): TargetResult[] {
  const out: TargetResult[] = [];
  for (const group of groupBy(stepRows(rows), (r) => r.first.system).values()) {
    const first = group[0]!.first;
    const ks = group.map(stepsOf).join(" / ");
    const tx = first.storage === "postgres" ? `; tx per step ${group.map((r) => fmt(txPerStep(r))).join(" / ")}` : "";
    out.push({
      target: `(context) ${STORE_NAME[first.storage]} checkpoint cost per step at K = ${ks} (C=${first.concurrency})`,
      measured: `${group.map((r) => fmt(usPerStep(r))).join(" / ")} µs${tx}`,
      threshold: "-",
      status: "n/a",
    });
  }
  return out;
}

export function figureTargets(results: Results): TargetResult[] {
  const rows = throughputRows(results);
  return [...w20Targets(rows), ...featureTargets(rows), ...childrenTargets(rows), ...stepsContext(rows)];
}
