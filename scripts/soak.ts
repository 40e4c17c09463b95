/**
 * The soak: a real `zart-server` (API and worker in one process) under a steady mixed load for N minutes
 * (see load/mixed-load.ts). Every N/12 minutes (every 5 minutes in a 60-minute run) it records the
 * server's RSS, heap used and active handles (from its /metrics), PostgreSQL's connection count (on
 * PostgreSQL) and the window's request latencies; at the end it prints the table and the least-squares
 * slope per hour of each figure, checks that every started execution completed, and writes JSON to
 * bench/results/.
 *
 *   npm run soak -- --minutes 60 [--store sqlite|postgres] [--rate 100] [--database-url postgres://…]
 *
 * On PostgreSQL each run uses a fresh schema (soak_<time>) in the given database
 * (default postgres://postgres@127.0.0.1:5432/zsoak, or ZART_SOAK_DATABASE_URL).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startServer } from "../test/support/server-process.js";
import { ensureDatabase } from "./load/ensure-database.js";
import { mb, slope, table } from "./load/figures.js";
import { MixedLoad, type WindowFigures } from "./load/mixed-load.js";
import { postgresConnections, procRssBytes, readProcessFigures } from "./load/server-metrics.js";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "60" },
    store: { type: "string", default: "sqlite" },
    rate: { type: "string", default: "100" },
    "database-url": { type: "string", default: process.env.ZART_SOAK_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/zsoak" },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const store = values.store;
if (!(minutes > 0) || !(rate > 0) || (store !== "sqlite" && store !== "postgres")) {
  console.error("usage: npm run soak -- --minutes N [--store sqlite|postgres] [--rate R] [--database-url URL]");
  process.exit(2);
}

interface Sample extends WindowFigures {
  atMinutes: number;
  rssMb: number;
  procRssMb: number;
  heapUsedMb: number;
  activeHandles: number;
  postgresConnections: number | null;
  started: number;
}

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const schema = `soak_${stamp.slice(0, 19).replace(/-/g, "").toLowerCase()}`;
const pgUrl = store === "postgres" ? `${values["database-url"]}${values["database-url"]!.includes("?") ? "&" : "?"}schema=${schema}` : null;
const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
if (pgUrl) await ensureDatabase(values["database-url"]!);
const server = await startServer({
  args: ["--tasks", join(ROOT, "scripts/load/soak-tasks.ts"), ...(pgUrl ? ["--database", pgUrl] : [])],
});
// The server is a child of this process: an interrupted soak must not leave it running.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.child.kill("SIGKILL");
    process.exit(130);
  });
}
process.once("uncaughtException", (error) => {
  server.child.kill("SIGKILL");
  console.error(error);
  process.exit(1);
});
const api = `${server.url}/api/v1`;
const pid = server.child.pid!;
console.log(`soak: ${minutes} min at ${rate} executions/s on ${store} (${pgUrl ?? server.dbPath}), server pid ${pid}, commit ${commit}`);

const load = new MixedLoad(api, rate);
const windowMs = (minutes * 60_000) / 12;
const samples: Sample[] = [];
const began = performance.now();
load.start();
for (let w = 1; w <= 12; w++) {
  await new Promise((resolve) => setTimeout(resolve, began + w * windowMs - performance.now()));
  const figures = await readProcessFigures(server.url);
  const sample: Sample = {
    atMinutes: (performance.now() - began) / 60_000,
    rssMb: mb(figures.rssBytes),
    procRssMb: mb(procRssBytes(pid)),
    heapUsedMb: mb(figures.heapUsedBytes),
    activeHandles: figures.activeHandles,
    postgresConnections: pgUrl ? await postgresConnections(values["database-url"]!) : null,
    started: load.totals.started,
    ...load.takeWindow(),
  };
  samples.push(sample);
  console.log(
    `  ${sample.atMinutes.toFixed(1)} min: rss ${sample.rssMb.toFixed(1)} MB, heap ${sample.heapUsedMb.toFixed(1)} MB, handles ${sample.activeHandles}, ` +
      `pg conns ${sample.postgresConnections ?? "-"}, p99 ${sample.p99Ms.toFixed(1)} ms (${sample.requests} requests), started ${sample.started}`,
  );
}
await load.stop();

// Every execution the load started must end completed; the stats must account for all of them. A backlog
// that does not drain within two minutes is reported (with a sample of the executions left), not waited on.
const readStats = async () => (await (await fetch(`${api}/stats`)).json()) as Record<string, number>;
const unfinished = (s: Record<string, number>) => (s.pending ?? 0) + (s.running ?? 0) + (s.waiting ?? 0);
let stats = await readStats();
for (const deadline = Date.now() + 120_000; unfinished(stats) > 0 && Date.now() < deadline; stats = await readStats()) {
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const leftOver: unknown[] = [];
for (const status of ["pending", "running", "waiting"]) {
  if ((stats[status] ?? 0) === 0) continue;
  const page = (await (await fetch(`${api}/executions?status=${status}&limit=20`)).json()) as { executions: unknown[] };
  leftOver.push(...page.executions);
}
const exitCode = await server.stop();

const perHour = (pick: (s: Sample) => number, from = 0) => slope(samples.slice(from).map((s) => [s.atMinutes / 60, pick(s)] as const));
const slopes = {
  rssMbPerHour: perHour((s) => s.rssMb),
  heapUsedMbPerHour: perHour((s) => s.heapUsedMb),
  p99MsPerHour: perHour((s) => s.p99Ms),
  activeHandlesPerHour: perHour((s) => s.activeHandles),
  // The first window holds the warm-up (JIT, pools filling, caches); the same slopes without it.
  afterFirstWindow: {
    rssMbPerHour: perHour((s) => s.rssMb, 1),
    heapUsedMbPerHour: perHour((s) => s.heapUsedMb, 1),
    p99MsPerHour: perHour((s) => s.p99Ms, 1),
  },
};
const checks = {
  started: load.totals.started,
  completed: stats.completed ?? 0,
  failed: stats.failed ?? 0,
  cancelled: stats.cancelled ?? 0,
  total: Object.values(stats).reduce((sum, n) => sum + n, 0),
  allCompleted: false,
  serverExitCode: exitCode,
  leftOver,
};

checks.allCompleted = checks.completed === load.totals.started && checks.total === load.totals.started;

const f = (n: number | null, d = 1) => (n === null || Number.isNaN(n) ? "-" : n.toFixed(d));
console.log(
  `\n${table(
    ["min", "RSS MB", "heap MB", "handles", "pg conns", "requests", "p50 ms", "p99 ms", "e2e p99 ms", "started"],
    samples.map((s) => [
      f(s.atMinutes),
      f(s.rssMb),
      f(s.heapUsedMb),
      String(s.activeHandles),
      s.postgresConnections === null ? "-" : String(s.postgresConnections),
      String(s.requests),
      f(s.p50Ms),
      f(s.p99Ms),
      f(s.endToEndP99Ms),
      String(s.started),
    ]),
  )}`,
);
console.log(
  `\nslope per hour (least squares over the ${samples.length} samples): RSS ${f(slopes.rssMbPerHour, 2)} MB/h, heap ${f(slopes.heapUsedMbPerHour, 2)} MB/h, ` +
    `p99 ${f(slopes.p99MsPerHour, 2)} ms/h, handles ${f(slopes.activeHandlesPerHour, 2)}/h`,
);
console.log(
  `without the first window: RSS ${f(slopes.afterFirstWindow.rssMbPerHour, 2)} MB/h, heap ${f(slopes.afterFirstWindow.heapUsedMbPerHour, 2)} MB/h, ` +
    `p99 ${f(slopes.afterFirstWindow.p99MsPerHour, 2)} ms/h`,
);
console.log(`load: ${JSON.stringify(load.totals)}`);
console.log(`checks: ${JSON.stringify(checks)}`);

const resultsDir = join(ROOT, "bench/results");
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${stamp}-soak-${store}-${minutes}min.json`);
writeFileSync(
  file,
  `${JSON.stringify({ kind: "soak", date: new Date().toISOString(), commit, store, minutes, rate, schema: pgUrl ? schema : null, samples, slopes, load: load.totals, checks }, null, 2)}\n`,
);
console.log(`wrote ${file}`);
const ok = checks.allCompleted && load.totals.serverErrors === 0 && Object.keys(load.totals.failures).length === 0 && exitCode === 0;
process.exit(ok ? 0 : 1);
