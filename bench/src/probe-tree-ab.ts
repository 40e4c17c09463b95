/**
 * Compares two checkouts of Zart on the same machine, one process per run (not part of the benchmark
 * tables; decision 022 comes from it). It imports the engine from `ZART_ROOT` (a checkout with its
 * dependencies installed; default: this repository), so the same probe runs against an old commit's
 * worktree and the current tree, alternately:
 *
 *   ZART_ROOT=/path/to/old-worktree npx tsx src/probe-tree-ab.ts throughput w0 10000 10 [sqlite|postgres]
 *   ZART_ROOT=/path/to/old-worktree npx tsx src/probe-tree-ab.ts latency w1 3000
 *
 * ZART_ROOT may also be a tree compiled by compile-tree.ts, to compare checkouts as the package runs.
 *
 * throughput: N executions inserted first (scheduleMany), then drained by one worker with concurrency C;
 *   prints executions/s and the CPU of this process and of PostgreSQL's processes per execution.
 * latency: one execution at a time, `schedule` then `waitForTerminal` in the worker's process (eager
 *   start), 200 dropped first; prints p50 and p95 in ms. PROBE_QUEUED=1: `schedule({ eager: false })`, so each
 *   execution is inserted, noticed and claimed (the benchmark's "queued" latency). PROBE_PRIORITY=1 (throughput; "blocks": see priorityFor):
 *   every execution has a priority 0-9, as in the benchmark's "priority" variant. PROBE_KEYED=1 (W0): the
 *   task has the benchmark's "keyed" concurrency limit (1000 per key over 100 keys, never binding).
 * PROBE_CPUPROF=file writes a V8 CPU profile of the measured part (see profile-summary.ts); PROBE_HEAPPROF=file
 * a sampled allocation profile of it (allocations collected since included). PROBE_ROWS=1 (throughput,
 * postgres): what the drain left in PostgreSQL, per execution: row versions written to `executions` and how
 * many were in place (HOT), the table's pages, the stored width of a row of `executions` and `steps`, and,
 * when pg_stat_statements is loaded, the drain's statements' executor time and WAL (see rowsReport).
 * PostgreSQL: PROBE_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), schema zbench_tree_ab.
 */
import { rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresCpuMs } from "./proc-cpu.js";
import { priorityOf } from "./workloads.js";
import { defineTask, Engine, openStore, root } from "./zart-tree.js";

const [mode = "throughput", workload = "w0", nArg = "10000", cArg = "10", storeKind = "sqlite"] = process.argv.slice(2);
const n = Number(nArg);
const queued = process.env.PROBE_QUEUED === "1";
const prioritized = process.env.PROBE_PRIORITY === "1" || process.env.PROBE_PRIORITY === "blocks";
/**
 * The benchmark's "priority" variant (`priorityOf`, the same for every system). "blocks": the same ten
 * priorities in runs, the first tenth of the executions inserted at 9 and so on down, so that the claim
 * order (priority first) is the insertion order, as without priorities (decision 041).
 */
const priorityFor = (i: number) => (process.env.PROBE_PRIORITY === "blocks" ? 9 - Math.floor((i * 10) / n) : priorityOf(i));
const concurrency = Number(cArg);
const SCHEMA = "zbench_tree_ab";
const pgUrl = process.env.PROBE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const file = join(tmpdir(), `zart-tree-ab-${process.pid}.sqlite`);
const url = storeKind === "sqlite" ? `sqlite:${file}` : pgUrl;

const tasks = [
  defineTask({ name: "ab-w0", run: (_ctx: unknown, data: { i: number }) => data.i + 1 }),
  // The benchmark's "keyed" variant: a limit that never binds (1000 per key, 100 keys).
  defineTask({
    name: "ab-w0-keyed",
    concurrency: { limit: 1000, key: (data: { i: number }) => `k${data.i % 100}` },
    run: (_ctx: unknown, data: { i: number }) => data.i + 1,
  }),
  defineTask({
    name: "ab-w1",
    // biome-ignore lint/suspicious/noExplicitAny: the context type of whichever checkout is loaded.
    async run(ctx: any, data: { i: number }) {
      const a = await ctx.step("a", () => data.i + 1);
      const b = await ctx.step("b", () => a + 1);
      return ctx.step("c", () => b + 1);
    },
  }),
];
const task = workload === "w0" ? (process.env.PROBE_KEYED === "1" ? "ab-w0-keyed" : "ab-w0") : "ab-w1";

async function freshStore() {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  if (storeKind === "postgres") {
    const pg = (await import(join(root, "node_modules/pg/lib/index.js"))).default;
    const client = new pg.Client(pgUrl);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await client.end();
  }
}
const open = () => openStore(url, storeKind === "sqlite" ? {} : { schema: SCHEMA });

async function adminClient() {
  const pg = (await import(join(root, "node_modules/pg/lib/index.js"))).default;
  const client = new pg.Client(pgUrl);
  await client.connect();
  return client;
}

/** PROBE_ROWS: statements are counted from here (when pg_stat_statements is loaded). */
async function rowsStart(): Promise<boolean> {
  const client = await adminClient();
  try {
    await client.query("SELECT pg_stat_statements_reset()");
    return true;
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

/** PROBE_ROWS, read once the drain's connections are gone (a backend reports its table counts when it exits). */
async function rowsReport(statements: boolean): Promise<Record<string, number>> {
  const client = await adminClient();
  try {
    const others =
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
    // At most 5 s: another session of this database (someone's psql) would never leave.
    for (let i = 0; i < 250 && (await client.query(others)).rows[0].n > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const one = async (sql: string) => (await client.query(sql)).rows[0];
    const t = await one(
      `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = '${SCHEMA}' AND relname = 'executions'`,
    );
    const pages = await one(`SELECT pg_relation_size('${SCHEMA}.executions') / 8192 AS pages`);
    const width = await one(
      `SELECT (SELECT avg(pg_column_size(e.*)) FROM ${SCHEMA}.executions e) AS e, (SELECT avg(pg_column_size(s.*)) FROM ${SCHEMA}.steps s) AS s`,
    );
    const report: Record<string, number> = {
      updatesPerExecution: +(Number(t.upd) / n).toFixed(2),
      hotShare: +(Number(t.hot) / Number(t.upd)).toFixed(3),
      executionsPages: Number(pages.pages),
      executionRowBytes: Math.round(Number(width.e)),
      stepRowBytes: Math.round(Number(width.s ?? 0)),
    };
    if (statements) {
      const s = await one(
        `SELECT sum(total_exec_time) AS ms, sum(wal_bytes) AS wal FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' AND query NOT LIKE '%status_counts%'`,
      );
      report.executorUsPerExecution = +((Number(s.ms) * 1000) / n).toFixed(1);
      report.walBytesPerExecution = Math.round(Number(s.wal) / n);
    }
    return report;
  } finally {
    await client.end();
  }
}

const session = new Session();
session.connect();
async function profile(phase: "start" | "stop"): Promise<void> {
  const out = process.env.PROBE_CPUPROF;
  const heapOut = process.env.PROBE_HEAPPROF;
  if (out && phase === "start") {
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  } else if (out) {
    const { profile: data } = await session.post("Profiler.stop");
    writeFileSync(out, JSON.stringify(data));
  }
  // Sampled allocations, those already collected included: what each function allocates, not what it keeps.
  if (heapOut && phase === "start") {
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } else if (heapOut) {
    const { profile: data } = await session.post("HeapProfiler.stopSampling");
    writeFileSync(heapOut, JSON.stringify(data));
  }
}

await freshStore();
if (mode === "throughput") {
  const filler = await open();
  const scheduler = await Engine.start({ store: filler, tasks, worker: false });
  for (let s = 0; s < n; s += 1000) {
    await scheduler.scheduleMany(
      Array.from({ length: Math.min(1000, n - s) }, (_, k) => ({
        task,
        data: { i: s + k },
        ...(prioritized ? { priority: priorityFor(s + k) } : {}),
      })),
    );
  }
  await scheduler.stop();
  await filler.close();
  const rows = process.env.PROBE_ROWS === "1" && storeKind === "postgres";
  const statements = rows && (await rowsStart());
  const store = await open();
  const pg0 = postgresCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await profile("start");
  const engine = await Engine.start({ store, tasks, worker: { concurrency }, migrate: false });
  while ((await store.countByStatus()).completed < n) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t0;
  await profile("stop");
  const cpu = process.cpuUsage(cpu0);
  const pgMs = postgresCpuMs() - pg0;
  await engine.stop();
  await store.close();
  console.log(
    JSON.stringify({
      root,
      mode,
      workload,
      store: storeKind,
      n,
      concurrency,
      perSecond: Math.round((n / ms) * 1000),
      processCpuMsPerExecution: +((cpu.user + cpu.system) / 1000 / n).toFixed(3),
      postgresCpuMsPerExecution: storeKind === "postgres" ? +(pgMs / n).toFixed(3) : null,
      ...(rows ? await rowsReport(statements) : {}),
    }),
  );
} else {
  const store = await open();
  const engine = await Engine.start({ store, tasks, worker: { concurrency: 10 } });
  const WARMUP = 200;
  const samples: number[] = [];
  for (let i = 0; i < n + WARMUP; i++) {
    if (i === WARMUP) await profile("start");
    const t = performance.now();
    const { execution } = await engine.schedule({ task, data: { i }, ...(queued ? { eager: false } : {}) });
    const done = await engine.waitForTerminal(execution.id, 30_000);
    if (done.status !== "completed") throw new Error(`execution ${execution.id} ended ${done.status}`);
    if (i >= WARMUP) samples.push(performance.now() - t);
  }
  await profile("stop");
  await engine.stop();
  await store.close();
  samples.sort((a, b) => a - b);
  const at = (q: number) => +(samples[Math.min(samples.length - 1, Math.floor(samples.length * q))] ?? 0).toFixed(3);
  console.log(JSON.stringify({ root, mode, workload, store: storeKind, n, queued, p50: at(0.5), p95: at(0.95) }));
}
for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
process.exit(0);
