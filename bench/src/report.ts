/**
 * Turns the raw per-run records into tables (median over runs, min–max) and checks the targets, with
 * ratios of medians from the same run. Used for the terminal and for BENCHMARKS.md.
 * Long because it holds one short function per table plus the target list; the steps, W0-features and
 * children tables live in report-figures.ts.
 */

import { childrenTable, figureTargets, stepsTable, w0FeaturesTable } from "./report-figures.js";
import { retentionTable, retentionTargets } from "./report-retention.js";
import {
  bySystem,
  dbosBaseline,
  findRate,
  groupBy,
  isMainThroughput,
  type TargetResult,
  throughputRows,
  times,
  verdict,
} from "./report-rows.js";
import type { HttpRecord, LatencyRecord, Results, ScaleRecord } from "./results.js";
import { fmt, fmtSpread, ratio, type Spread, spread } from "./stats.js";
import { renderTable, type Table } from "./table.js";

/** w1-chain / w20-chain: the job queues run the step workloads as chains of jobs. */
function workloadLabel(system: string, workload: string): string {
  return ["w1", "w20"].includes(workload) && ["graphile", "pgboss"].includes(system) ? `${workload}-chain` : workload;
}

function throughputTable(results: Results): Table {
  const rows = throughputRows(results);
  const shown = rows.filter((r) => isMainThroughput(r.first));
  return {
    title: "Worker throughput (enqueue N first, then one worker process drains them; executions/s)",
    headers: [
      "system",
      "store",
      "workload",
      "C",
      "settings",
      "N",
      "runs",
      "executions/s median (min–max)",
      "÷ DBOS",
      "Postgres tx/execution",
      "worker peak RSS MB",
      "outputs",
    ],
    rows: shown.map((r) => [
      r.first.label,
      r.first.storage,
      workloadLabel(r.first.system, r.first.workload),
      String(r.first.concurrency),
      r.first.settings,
      String(r.first.n),
      String(r.rate.runs),
      fmtSpread(r.rate),
      times(ratio(r.rate.median, dbosBaseline(rows, r))),
      fmtSpread(r.tx),
      fmt(r.rss.median),
      r.ok ? "ok" : "FAILED",
    ]),
    notes: [
      "`÷ DBOS`: ratio of medians against DBOS's queue (10 ms poll) at the same workload and concurrency. " +
        "`Postgres tx/execution`: pg_stat_database.xact_commit delta over the worker process's life ÷ N, " +
        "minus the harness's own completion checks; it counts every transaction, idle polls included. " +
        "w1-chain = the job queues run W1 as three chained jobs; w20-chain = W20 as twenty (one job type that enqueues its next step).",
    ],
  };
}

function enqueueTable(results: Results): Table {
  const groups = groupBy(results.enqueue, (r) => `${r.system}|${r.mode}`);
  return {
    title: "Enqueue rate (one client process; executions enqueued/s)",
    headers: ["system", "store", "mode", "N", "runs", "enqueued/s median (min–max)"],
    rows: [...groups.values()]
      .sort((a, b) => bySystem(a[0]!, b[0]!))
      .map((records) => {
        const s = spread(records.map((r) => r.perSecond));
        const first = records[0]!;
        return [first.label, first.storage, first.mode, String(first.n), String(s.runs), fmtSpread(s)];
      }),
    notes: [
      "Zart: `engine.schedule` from an API-only engine; batch: `engine.scheduleMany` in batches of 1000. " +
        "batch: graphile `addJobs` and pg-boss `insert` in batches of 1000; DBOS: N `enqueueInTransaction` calls in one transaction.",
    ],
  };
}

interface LatencyRow {
  first: LatencyRecord;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  worker: Spread;
  ok: boolean;
}

export function latencyRows(results: Results): LatencyRow[] {
  return [...groupBy(results.latency, (r) => `${r.system}|${r.workload}|${r.variant}`).values()]
    .map((records) => ({
      first: records[0]!,
      p50: spread(records.map((r) => r.p50)),
      p95: spread(records.map((r) => r.p95)),
      p99: spread(records.map((r) => r.p99)),
      worker: spread(records.map((r) => r.workerSideP50 ?? Number.NaN)),
      ok: records.every((r) => r.check.ok),
    }))
    .sort((a, b) => bySystem(a.first, b.first) || a.first.workload.localeCompare(b.first.workload));
}

function latencyTable(results: Results): Table {
  return {
    title: "Latency, one execution at a time (start → completion, ms; median over runs of each run's percentile)",
    headers: ["system", "store", "workload", "mode", "samples/run", "runs", "p50", "p95", "p99", "worker-side p50", "outputs"],
    rows: latencyRows(results).map((r) => [
      r.first.label,
      r.first.storage,
      r.first.workload,
      r.first.settings,
      String(r.first.samples),
      String(r.p50.runs),
      fmtSpread(r.p50),
      fmtSpread(r.p95),
      fmtSpread(r.p99),
      fmtSpread(r.worker),
      r.ok ? "ok" : "FAILED",
    ]),
    notes: [
      "w3 = event wake: the execution is parked on an event; timed from delivery until the caller sees it completed.",
      "Zart in-process = `engine.schedule` then `engine.waitForTerminal` in the process that runs the worker (the headline, like the peers' in-process callers; with the engine's default eager start the execution runs here at once when this worker has a free slot, like DBOS's direct `startWorkflow`, and its insert carries its first write: born claimed, or born completed when it ends without a step); queued = the same with eager start off (insert, notice, claim); Zart over HTTP (the same default eager start, in the server's worker) = `POST /executions` then `GET /executions/:id/wait` against zart-server.",
    ],
  };
}

function httpTable(results: Results): Table {
  const groups = groupBy(results.http, (r) => `${r.target}|${r.route}|${r.connections}`);
  return {
    title: "HTTP (autocannon, 127.0.0.1, client and server on the same 2 cores)",
    headers: ["server", "route", "connections", "duration s", "runs", "req/s median (min–max)", "p50 ms", "p99 ms", "non-2xx", "errors"],
    rows: [...groups.values()].map((records) => {
      const rps = spread(records.map((r) => r.requestsPerSecond));
      const first = records[0]!;
      return [
        first.label,
        first.route,
        String(first.connections),
        String(first.durationS),
        String(rps.runs),
        fmtSpread(rps),
        fmt(spread(records.map((r) => r.p50Ms)).median),
        fmt(spread(records.map((r) => r.p99Ms)).median),
        String(records.reduce((a, r) => a + r.non2xx, 0)),
        String(records.reduce((a, r) => a + r.errors, 0)),
      ];
    }),
  };
}

export function scaleGroups(results: Results): Map<string, ScaleRecord[]> {
  return groupBy(results.scale, (r) => `${r.storage}|${r.operation}|${r.stored}`);
}

function scaleTable(results: Results): Table {
  return {
    title: "Scale: store operation latency by number of stored executions (ms)",
    headers: ["store", "operation", "stored executions", "samples/run", "runs", "p50", "p95", "p99"],
    rows: [...scaleGroups(results).values()].map((records) => {
      const first = records[0]!;
      return [
        first.storage,
        first.operation,
        first.stored.toLocaleString("en-US"),
        String(first.samples),
        String(records.length),
        fmtSpread(spread(records.map((r) => r.p50))),
        fmtSpread(spread(records.map((r) => r.p95))),
        fmtSpread(spread(records.map((r) => r.p99))),
      ];
    }),
  };
}

function memoryTable(results: Results): Table {
  const groups = groupBy(results.memory, (r) => `${r.what}|${r.storage}|${r.count}`);
  return {
    title: "Memory",
    headers: ["what", "store", "count", "runs", "baseline RSS MB", "RSS MB", "KB per item", "note"],
    rows: [...groups.values()].map((records) => {
      const first = records[0]!;
      return [
        first.what,
        first.storage,
        first.count.toLocaleString("en-US"),
        String(records.length),
        fmt(spread(records.map((r) => r.baselineRssMb)).median),
        fmtSpread(spread(records.map((r) => r.rssMb))),
        fmt(spread(records.map((r) => r.perItemKb)).median),
        first.note,
      ];
    }),
  };
}

function latencyP50(results: Results, system: string, workload: string, variant: string): number {
  return (
    latencyRows(results).find((r) => r.first.system === system && r.first.workload === workload && r.first.variant === variant)?.p50
      .median ?? Number.NaN
  );
}

function httpRps(results: Results, route: string): number {
  return spread(results.http.filter((r) => r.target === "zart-server-sqlite" && r.route === route).map((r) => r.requestsPerSecond)).median;
}

/** "No worse at 1,000,000 than at 1,000": p50 at the large size within 1.5× + 0.2 ms of the small size (noise allowance). */
function scaleTargets(results: Results): TargetResult[] {
  const out: TargetResult[] = [];
  const groups = groupBy(results.scale, (r) => `${r.storage}|${r.operation}`);
  for (const [key, records] of groups) {
    const sizes = [...new Set(records.map((r) => r.stored))].sort((a, b) => a - b);
    if (sizes.length < 2) continue;
    const small = spread(records.filter((r) => r.stored === sizes[0]).map((r) => r.p50)).median;
    const large = spread(records.filter((r) => r.stored === sizes.at(-1)).map((r) => r.p50)).median;
    const [storage, operation] = key.split("|");
    out.push({
      target: `${storage} ${operation} p50 at ${sizes.at(-1)!.toLocaleString("en-US")} no worse than at ${sizes[0]!.toLocaleString("en-US")}`,
      measured: `${fmt(large)} ms vs ${fmt(small)} ms (${fmt(ratio(large, small))}×)`,
      threshold: "≤ 1.5× + 0.2 ms",
      status: verdict(large, (v) => v <= small * 1.5 + 0.2),
    });
  }
  return out;
}

export function targets(results: Results): TargetResult[] {
  const rows = throughputRows(results);
  const out: TargetResult[] = [];
  for (const c of [10, 50]) {
    const zartW1 = findRate(rows, "zart-pg", "w1", c, "default");
    const zartW0 = findRate(rows, "zart-pg", "w0", c, "default");
    const r1 = ratio(zartW1, findRate(rows, "dbos", "w1", c, "poll10"));
    out.push({
      target: `Postgres W1 throughput ≥ 5× DBOS (C=${c})`,
      measured: times(r1),
      threshold: "≥ 5×",
      status: verdict(r1, (v) => v >= 5),
    });
    const r2 = ratio(zartW1, findRate(rows, "graphile", "w1", c, "default"));
    out.push({
      target: `Postgres W1 throughput ≥ 3× graphile-worker 3-job chain (C=${c})`,
      measured: times(r2),
      threshold: "≥ 3×",
      status: verdict(r2, (v) => v >= 3),
    });
    // Zart's opt-in prefetch beside the same peers (shown, not the target).
    const zartW1Prefetch = findRate(rows, "zart-pg", "w1", c, "prefetch");
    const r1p = ratio(zartW1Prefetch, findRate(rows, "dbos", "w1", c, "poll10"));
    const r2p = ratio(zartW1Prefetch, findRate(rows, "graphile", "w1", c, "default"));
    if (Number.isFinite(r1p))
      out.push({
        target: `(also) W1 with Zart prefetch ≥ 5× DBOS (C=${c})`,
        measured: times(r1p),
        threshold: "≥ 5×",
        status: verdict(r1p, (v) => v >= 5),
      });
    if (Number.isFinite(r2p))
      out.push({
        target: `(also) W1 with Zart prefetch ≥ 3× graphile-worker 3-job chain (C=${c})`,
        measured: times(r2p),
        threshold: "≥ 3×",
        status: verdict(r2p, (v) => v >= 3),
      });
    const r3 = ratio(zartW0, findRate(rows, "graphile", "w0", c, "tuned"));
    out.push({
      target: `Postgres W0 throughput ≥ graphile-worker with batching (C=${c})`,
      measured: times(r3),
      threshold: "≥ 1×",
      status: verdict(r3, (v) => v >= 1),
    });
    // Batching against batching: Zart's opt-in prefetch beside graphile's local queue (shown, not the target).
    const r4 = ratio(findRate(rows, "zart-pg", "w0", c, "prefetch"), findRate(rows, "graphile", "w0", c, "tuned"));
    if (Number.isFinite(r4)) {
      out.push({
        target: `(also) Postgres W0 with Zart prefetch ≥ graphile-worker with batching (C=${c})`,
        measured: times(r4),
        threshold: "≥ 1×",
        status: verdict(r4, (v) => v >= 1),
      });
    }
  }
  const lat = [
    ["W1 latency p50 (Postgres, in-process)", latencyP50(results, "zart-pg", "w1", "in-process"), 3],
    ["W0 latency p50 (Postgres, in-process)", latencyP50(results, "zart-pg", "w0", "in-process"), 1.5],
    ["event wake latency p50 (Postgres)", latencyP50(results, "zart-pg", "w3", "event"), 3],
    ["(also) W1 latency p50 (Postgres, in-process, queued: eager start off)", latencyP50(results, "zart-pg", "w1", "queued"), 3],
    ["(also) W0 latency p50 (Postgres, in-process, queued: eager start off)", latencyP50(results, "zart-pg", "w0", "queued"), 1.5],
  ] as const;
  for (const [target, value, limit] of lat) {
    out.push({ target, measured: `${fmt(value)} ms`, threshold: `≤ ${limit} ms`, status: verdict(value, (v) => v <= limit) });
  }
  // Context for the thresholds above: the machine's own commit round trip (W0 makes two in sequence, W1 four).
  const commit = latencyP50(results, "postgres", "commit", "yardstick");
  if (Number.isFinite(commit)) {
    out.push({
      target: "(context) one PostgreSQL commit, p50 (yardstick; in-process W0 and event wake are one commit each, W1 four in sequence)",
      measured: `${fmt(commit)} ms`,
      threshold: "-",
      status: "n/a",
    });
  }
  const sqliteW1 = Math.max(
    ...rows
      .filter((r) => r.first.system === "zart-sqlite" && r.first.workload === "w1" && r.first.variant === "default")
      .map((r) => r.rate.median),
  );
  out.push({
    target: "SQLite one process: W1 throughput (best C)",
    measured: `${fmt(sqliteW1)}/s`,
    threshold: "≥ 5,000/s",
    status: verdict(sqliteW1, (v) => v >= 5000),
  });
  const post = httpRps(results, "POST /executions");
  out.push({
    target: "SQLite one process: POST /executions",
    measured: `${fmt(post)} req/s`,
    threshold: "≥ 5,000 req/s",
    status: verdict(post, (v) => v >= 5000),
  });
  const get = httpRps(results, "GET /executions/:id");
  out.push({
    target: "SQLite one process: GET status",
    measured: `${fmt(get)} req/s`,
    threshold: "≥ 15,000 req/s",
    status: verdict(get, (v) => v >= 15000),
  });
  out.push(...figureTargets(results));
  out.push(...scaleTargets(results));
  out.push(...retentionTargets(results));
  return out;
}

function targetsTable(results: Results): Table {
  return {
    title: "Targets (ratios of medians from this run)",
    headers: ["target", "measured", "threshold", "result"],
    rows: targets(results).map((t) => [t.target, t.measured, t.threshold, t.status === "pass" ? "**pass**" : t.status]),
  };
}

function txTable(results: Results): Table {
  const rows = throughputRows(results).filter((r) => r.first.storage === "postgres" && isMainThroughput(r.first));
  const groups = groupBy(rows, (r) => `${r.first.system}|${r.first.workload}|${r.first.variant}`);
  return {
    title: "Postgres transactions per execution (machine-independent; median over concurrencies and runs)",
    headers: ["system", "workload", "settings", "tx/execution"],
    rows: [...groups.values()].map((g) => [
      g[0]!.first.label,
      workloadLabel(g[0]!.first.system, g[0]!.first.workload),
      g[0]!.first.settings,
      fmt(spread(g.map((r) => r.tx.median)).median),
    ]),
  };
}

export function reportTables(results: Results): Table[] {
  return [
    targetsTable(results),
    throughputTable(results),
    txTable(results),
    w0FeaturesTable(results),
    stepsTable(results),
    childrenTable(results),
    enqueueTable(results),
    latencyTable(results),
    httpTable(results),
    scaleTable(results),
    memoryTable(results),
    retentionTable(results),
  ];
}

export function printReport(results: Results): void {
  console.log("");
  for (const table of reportTables(results)) console.log(renderTable(table));
  const allChecks = [...results.throughput, ...results.latency].every((r) => r.check.ok);
  console.log(
    `Output checks: ${allChecks ? "all passed" : "SOME FAILED"} (${results.throughput.length + results.latency.length} runs checked)`,
  );
  if (results.failures.length > 0) {
    console.log(`\n${results.failures.length} measurement(s) failed:`);
    for (const f of results.failures) console.log(`- ${f.cell} (run ${f.run}): ${f.error.split("\n")[0]}`);
  }
  for (const note of results.notes) console.log(`note: ${note}`);
}

export type { HttpRecord, TargetResult };
