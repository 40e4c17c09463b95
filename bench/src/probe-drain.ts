/**
 * Profiling probe behind several records in docs/decisions (not part of the benchmark tables): fills N
 * executions into a fresh database (`zbench_probe`, or PROBE_DB), drains them with one in-process worker,
 * and prints one JSON line: executions/s, Node and PostgreSQL CPU per execution (PostgreSQL: every local
 * `postgres` process, from /proc, so run it on the database's machine) and transactions per execution.
 * The ablation switches of probe-knobs.ts (PROBE_IN_FLIGHT, PROBE_SETTLING, PROBE_NOTICES) apply to the drain.
 *
 *   npx tsx src/probe-drain.ts [w0|w1] [concurrency] [N] [prefetch: a number, 0 for none, or auto]
 *   PROBE_ANALYZE=1        VACUUM ANALYZE after the fill (plans with statistics, as after autovacuum)
 *   PROBE_DROP_INDEXES=a,b drop these indexes first (the index-cost ablation)
 *   PROBE_SQL="..."       run this SQL after the fill (other ablations, e.g. dropping a trigger)
 *   PROBE_CPUPROF=file    write a V8 CPU profile (.cpuprofile) of the drain alone
 *   PROBE_FUNCTIONS=1      also print pg_stat_user_functions (calls and time per function)
 */
import pg from "pg";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import { startProfile } from "./cpu-profile.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { applyKnobs, probeDatabase } from "./probe-knobs.js";
import { postgresCpuMs } from "./proc-cpu.js";
import { benchTasks, observer, TASK_FOR } from "./zart-tasks.js";

const [workload = "w0", c = "50", n = "10000", pf = "0"] = process.argv.slice(2);
const concurrency = Number(c);
const total = Number(n);
const prefetch = pf === "auto" ? "auto" : Number(pf);
const DB = probeDatabase("zbench_probe");
const knobs = applyKnobs();

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.query(`CREATE DATABASE ${DB}`);
const url = urlForDatabase(adminUrl(), DB);
const commits = async () =>
  Number((await admin.query("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", [DB])).rows[0].xact_commit);

const filler = await openStore(url, { schema: "zart" });
await filler.migrate();
const api = await Engine.start({ store: filler, tasks: benchTasks, worker: false, migrate: false });
const task = TASK_FOR[workload as "w0" | "w1"];
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < total) await api.schedule({ task, data: { i: next++ } });
  }),
);
await api.stop();
await filler.close();

const db = new pg.Client(url);
await db.connect();
for (const index of (process.env.PROBE_DROP_INDEXES ?? "").split(",").filter(Boolean)) await db.query(`DROP INDEX zart.${index}`);
if (process.env.PROBE_SQL) await db.query(process.env.PROBE_SQL);
if (process.env.PROBE_ANALYZE) await db.query("VACUUM ANALYZE zart.executions");
if (process.env.PROBE_FUNCTIONS) await admin.query(`ALTER DATABASE ${DB} SET track_functions = 'all'`);

let done = 0;
let allRan!: () => void;
const ran = new Promise<void>((resolve) => {
  allRan = resolve;
});
observer.onOutput = () => {
  if (++done === total) allRan();
};
// PROBE_CPUPROF=file: a V8 CPU profile of the drain alone (the fill above is not in it).
const profiler = process.env.PROBE_CPUPROF ? await startProfile(process.env.PROBE_CPUPROF) : null;
const commits0 = await commits();
// A profiler can start on this line (e.g. `perf record -a` once it appears) to see the drain alone.
console.error("draining");
const pg0 = postgresCpuMs();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const store = await openStore(url, { schema: "zart" });
const engine = await Engine.start({ store, tasks: benchTasks, worker: { concurrency, prefetch }, migrate: false });
await ran;
const completed = async () => Number((await db.query("SELECT count(*) AS n FROM zart.executions WHERE status = 'completed'")).rows[0].n);
while ((await completed()) < total) await new Promise((resolve) => setImmediate(resolve));
const ms = performance.now() - t0;
await profiler?.stop();
const cpu = process.cpuUsage(cpu0);
const pgMs = postgresCpuMs() - pg0;
const tx = (await commits()) - commits0;
console.log(
  JSON.stringify({
    workload,
    concurrency,
    prefetch,
    ...knobs,
    n: total,
    perSecond: Math.round((total / ms) * 1000),
    nodeUsPerExecution: Math.round((cpu.user + cpu.system) / total),
    postgresUsPerExecution: Math.round((pgMs * 1000) / total),
    transactionsPerExecution: Number((tx / total).toFixed(3)),
  }),
);
if (process.env.PROBE_FUNCTIONS) {
  const rows = await db.query(
    "SELECT funcname, calls, round(total_time::numeric, 1) AS total_ms FROM pg_stat_user_functions ORDER BY total_time DESC",
  );
  console.table(rows.rows);
}
observer.onOutput = null;
await engine.stop();
await store.close();
await db.end();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.end();
