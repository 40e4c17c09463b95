/**
 * Probe behind docs/decisions/020-postgres-insert-batching.md (not part of the benchmark tables):
 * `engine.schedule()` with C calls in flight on an API-only engine over PostgreSQL, into a fresh database;
 * prints schedules per second and PostgreSQL transactions per execution.
 *
 *   npx tsx src/probe-pg-intake.ts [C] [N]      PROBE_DB names the database (default zbench_probe_intake)
 *   The switches of probe-knobs.ts apply (PROBE_INSERTS=at-once: the batcher before decision 032).
 */
import pg from "pg";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { applyKnobs, probeDatabase } from "./probe-knobs.js";
import { benchTasks, TASK_FOR } from "./zart-tasks.js";

const [c = "50", n = "10000"] = process.argv.slice(2);
const concurrency = Number(c);
const total = Number(n);
const knobs = applyKnobs();
const DB = probeDatabase("zbench_probe_intake");
const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.query(`CREATE DATABASE ${DB}`);
const commits = async () =>
  Number((await admin.query("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", [DB])).rows[0].xact_commit);
const store = await openStore(urlForDatabase(adminUrl(), DB), { schema: "zart" });
await store.migrate();
const api = await Engine.start({ store, tasks: benchTasks, worker: false, migrate: false });
// Registers the task as a worker would, so schedule() finds it.
await store.registerTasks("probe", [{ name: TASK_FOR.w0, inputSchemaJson: null, options: {} }], Date.now());
const commits0 = await commits();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) await api.schedule({ task: TASK_FOR.w0, data: { i: next++ } });
  }),
);
const ms = performance.now() - t0;
// Backends report their counters to pg_stat_database when idle, at most once a second.
await api.stop();
await store.close();
await new Promise((resolve) => setTimeout(resolve, 1500));
const tx = (await commits()) - commits0;
console.log(
  JSON.stringify({
    ...knobs,
    concurrency,
    n: total,
    perSecond: Math.round((total / ms) * 1000),
    transactionsPerExecution: +(tx / total).toFixed(3),
  }),
);
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.end();
