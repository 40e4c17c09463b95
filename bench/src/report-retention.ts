/**
 * The retention figure's table and targets: the worker's W0 throughput and the latency of single claims
 * with nothing else running and while a prune round deletes the stored old executions (PostgreSQL), as
 * medians over runs with their ratio, and the round's own rate.
 */
import { type TargetResult, verdict } from "./report-rows.js";
import type { Results, RetentionRecord } from "./results.js";
import { fmt, fmtSpread, ratio, spread } from "./stats.js";
import type { Table } from "./table.js";

function phase(results: Results, name: RetentionRecord["phase"]): RetentionRecord[] {
  return (results.retention ?? []).filter((r) => r.phase === name);
}

const MEASURES: { label: string; value: (r: RetentionRecord) => number }[] = [
  { label: "W0 drain, one worker at C=50 (executions/s)", value: (r) => r.w0PerSecond },
  { label: "claim of 1 due row, p50 (ms)", value: (r) => r.claimP50 },
  { label: "claim of 1 due row, p95 (ms)", value: (r) => r.claimP95 },
  { label: "claim of 1 due row, p99 (ms)", value: (r) => r.claimP99 },
];

export function retentionTable(results: Results): Table {
  const baseline = phase(results, "baseline");
  const pruning = phase(results, "pruning");
  const first = pruning[0] ?? baseline[0];
  const rows =
    baseline.length === 0 || pruning.length === 0
      ? []
      : [
          ...MEASURES.map(({ label, value }) => {
            const none = spread(baseline.map(value));
            const during = spread(pruning.map(value));
            return [label, String(none.runs), fmtSpread(none), fmtSpread(during), fmt(ratio(during.median, none.median))];
          }),
          [
            `prune round, batches of ${first?.batchSize ?? "?"} (executions deleted/s)`,
            String(pruning.length),
            "-",
            fmtSpread(spread(pruning.map((r) => (r.pruned ?? 0) / ((r.pruneMs ?? Number.NaN) / 1000)))),
            "-",
          ],
          [
            "old executions left when the measurements ended",
            String(pruning.length),
            "-",
            fmtSpread(spread(pruning.map((r) => r.remainingAtEnd ?? Number.NaN))),
            "-",
          ],
        ];
  return {
    title: `Retention: workers while a prune round deletes ${first ? first.stored.toLocaleString("en-US") : "N"} old executions (PostgreSQL)`,
    headers: ["measure", "runs", "no pruning: median (min–max)", "while pruning: median (min–max)", "pruning ÷ none"],
    rows,
    notes: [
      "Each phase on a freshly filled database: the old executions (one step record each) ended a year ago; the round deletes them " +
        "all in another process (`engine.prune`) while one worker process drains N W0 executions, then single claims are timed one at a time. " +
        "A pruning-phase measurement counts only if old executions were still left when it ended (last row). docs/decisions/009-retention-pruning.md.",
    ],
  };
}

/** W0 while pruning ≥ 0.75× without; claim p99 while pruning ≤ 2× + 2 ms of without. */
export function retentionTargets(results: Results): TargetResult[] {
  const baseline = phase(results, "baseline");
  const pruning = phase(results, "pruning");
  if (baseline.length === 0 || pruning.length === 0) return [];
  const w0 = [spread(pruning.map((r) => r.w0PerSecond)).median, spread(baseline.map((r) => r.w0PerSecond)).median] as const;
  const p99 = [spread(pruning.map((r) => r.claimP99)).median, spread(baseline.map((r) => r.claimP99)).median] as const;
  return [
    {
      target: "Postgres W0 while a prune round runs",
      measured: `${fmt(w0[0])}/s vs ${fmt(w0[1])}/s (${fmt(ratio(w0[0], w0[1]))}×)`,
      threshold: "≥ 0.75× without",
      status: verdict(w0[0], (v) => v >= 0.75 * w0[1]),
    },
    {
      target: "Postgres claim p99 while a prune round runs",
      measured: `${fmt(p99[0])} ms vs ${fmt(p99[1])} ms (${fmt(ratio(p99[0], p99[1]))}×)`,
      threshold: "≤ 2× + 2 ms of without",
      status: verdict(p99[0], (v) => v <= 2 * p99[1] + 2),
    },
  ];
}
