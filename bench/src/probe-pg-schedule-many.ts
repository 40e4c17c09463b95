/**
 * Probe for issue 19's `scheduleMany` figure (not part of the benchmark tables): `engine.scheduleMany` in
 * batches of B on an API-only engine over PostgreSQL, into a fresh database, one batch at a time. Prints
 * executions per second, and how much of each batch's time was the store's INSERT query (sent, executed, its rows
 * received and parsed by the driver) against the rest (building the requests and the answers).
 *
 *   npx tsx src/probe-pg-schedule-many.ts [N] [B]      PROBE_DB names the database (default zbench_probe_many)
 *   PROBE_COLD=1   no warm-up batch (as the benchmark's enqueue cell, a fresh process); prints each batch's
 *                  milliseconds and, after a slash, the INSERT queries' milliseconds so far, then how many
 *                  connections the store's pool holds after it
 *   PROBE_WARM_ROWS=W   with PROBE_COLD, one batch of W rows before the timed ones (default none)
 *   PROBE_TRUNCATE=1    empties the tables after that warm-up: warm code, fresh table
 *   PROBE_WARM_POOL=K   K pooled connections opened before the first batch
 *   PROBE_WAL=1         with PROBE_COLD, also each batch's WAL in kB (read between batches, outside the timing)
 *   PROBE_CPUPROF=file  a V8 CPU profile of the timed batches (sampled every 100 µs; read it with profile-summary.ts)
 *
 * It loads the engine from ZART_ROOT (default: this repository's dist/), which may be a tree compiled by
 * compile-tree.ts, so two checkouts can be run alternately.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import pg from "pg";
import { startProfile } from "./cpu-profile.js";
import { adminUrl, urlForDatabase, walMeter } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const root = process.env.ZART_ROOT ? resolve(process.env.ZART_ROOT) : null;
const entry = (path: string) => (root === null ? join(import.meta.dirname, "../../dist", `${path}.js`) : join(root, "src", `${path}.js`));
if (root !== null && !existsSync(entry("engine/engine"))) throw new Error(`ZART_ROOT=${root} is not a compiled tree`);
const { Engine } = await import(entry("engine/engine"));
const { openStore } = await import(entry("store/open-store"));
const { defineTask } = await import(entry("core/task"));
const TASK = "bench-w0";
const benchTasks = [defineTask({ name: TASK, run: async () => null })];

const [n = "20000", b = "1000"] = process.argv.slice(2);
const total = Number(n);
const batch = Number(b);
const DB = probeDatabase("zbench_probe_many");
const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.query(`CREATE DATABASE ${DB}`);
const store = await openStore(urlForDatabase(adminUrl(), DB), { schema: "zart" });
await store.migrate();
const api = await Engine.start({ store, tasks: benchTasks, worker: false, migrate: false });
await store.registerTasks("probe", [{ name: TASK, inputSchemaJson: null, options: {} }], Date.now());

// Time inside the pool's query() calls: the statement's round trip and the driver's parsing of its rows. The
// package's own copy of pg (the one the store uses), not the suite's.
const storePg = createRequire(entry("store/open-store"))("pg") as typeof pg;
let queryMs = 0;
const query = storePg.Pool.prototype.query;
storePg.Pool.prototype.query = function (this: pg.Pool, ...args: unknown[]) {
  const text = (args[0] as { text?: string } | string | undefined) ?? "";
  if (!(typeof text === "string" ? text : (text.text ?? "")).includes("INSERT INTO")) return query.apply(this, args as never);
  const t = performance.now();
  const result = (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  return result.finally(() => {
    queryMs += performance.now() - t;
  });
} as typeof query;

const pool = (store as unknown as { db: { pool: pg.Pool } }).db.pool;
if (process.env.PROBE_WARM_POOL) {
  const clients = await Promise.all(Array.from({ length: Number(process.env.PROBE_WARM_POOL) }, () => pool.connect()));
  for (const client of clients) client.release();
}
const request = (i: number) => ({ task: TASK, data: { i } });
const cold = process.env.PROBE_COLD === "1";
// Without PROBE_COLD: one full batch first, so every statement is prepared before the timing.
const warmRows = cold ? Number(process.env.PROBE_WARM_ROWS ?? 0) : batch;
if (warmRows > 0) await api.scheduleMany(Array.from({ length: warmRows }, (_, k) => request(-k - 1)));
if (process.env.PROBE_TRUNCATE === "1") await pool.query("TRUNCATE zart.executions, zart.count_deltas, zart.status_counts CASCADE");
const walKb = process.env.PROBE_WAL === "1" ? walMeter(admin) : null;
queryMs = 0;
const profiler = process.env.PROBE_CPUPROF ? await startProfile(process.env.PROBE_CPUPROF, 100) : null;
let ms = 0;
for (let start = 0; start < total; start += batch) {
  await walKb?.start();
  const started = performance.now();
  await api.scheduleMany(Array.from({ length: Math.min(batch, total - start) }, (_, k) => request(start + k)));
  const took = performance.now() - started;
  ms += took;
  const wal = walKb === null ? "" : ` wal ${await walKb.since()}kB`;
  if (cold) console.log(`${took.toFixed(1)}/${queryMs.toFixed(1)}${wal} pool ${pool.totalCount}`);
}
await profiler?.stop();
console.log(
  JSON.stringify({
    n: total,
    batch,
    perSecond: Math.round((total / ms) * 1000),
    msPerBatch: +((ms * batch) / total).toFixed(2),
    queryShare: +(queryMs / ms).toFixed(3),
  }),
);
await api.stop();
await store.close();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.end();
