/**
 * Probe for decision 037 (not part of the benchmark tables): does a PostgreSQL claim cost more the more
 * work has run since the last VACUUM? One process, an API and a worker (concurrency 50) on a fresh
 * database, 50 callers scheduling W0 executions (queued, as `POST /executions` does) for S seconds with
 * VACUUM kept off the executions table (`autovacuum_enabled = false`: as when autovacuum lags behind a busy
 * table, which by default waits for 20% of the table to be dead). Prints executions per second in
 * the first five windows of S/6 (scheduled, and completed as the status counts say), how many were
 * scheduled and completed in the S seconds, and the claim statements' time per execution, from the database's statement
 * statistics when `pg_stat_statements` is loaded (else null): every statement that runs `pick_due`, the
 * checkpoint batches that carry a claim included.
 *
 *   ZART_ROOT=<compiled tree> npx tsx src/probe-pg-claim-history.ts [seconds, default 60]
 *   PROBE_DB names the database (default zbench_probe_claim_history)
 *
 * ZART_ROOT is a tree compiled by compile-tree.ts (default: this repository's dist/), so two checkouts can
 * be run alternately.
 */
import { join, resolve } from "node:path";
import pg from "pg";
import { freshProbeDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const root = process.env.ZART_ROOT ? join(resolve(process.env.ZART_ROOT), "src") : join(import.meta.dirname, "../../dist");
const { Engine } = await import(join(root, "engine/engine.js"));
const { openStore } = await import(join(root, "store/open-store.js"));
const { defineTask } = await import(join(root, "core/task.js"));
const { silentLogger } = await import(join(root, "core/logger.js"));

const seconds = Number(process.argv[2] ?? 60);
const database = await freshProbeDatabase(probeDatabase("zbench_probe_claim_history"));
const url = database.url;
const store = await openStore(url, { schema: "zart" });
await store.migrate();
const db = new pg.Client(url);
await db.connect();
await db.query("ALTER TABLE zart.executions SET (autovacuum_enabled = false)");
// The reset fails unless the server preloads pg_stat_statements: then the run reports no statement figures.
const statements = await db
  .query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
  .then(() => db.query("SELECT pg_stat_statements_reset()"))
  .then(
    () => true,
    () => false,
  );

const task = defineTask({ name: "history-w0", run: async () => null });
const engine = await Engine.start({ store, tasks: [task], worker: { concurrency: 50 }, migrate: false, logger: silentLogger });
const windowMs = (seconds * 1000) / 6;
// The last window ends with the run; the ticker reports the first five.
const started = performance.now();
const end = started + seconds * 1000;
let scheduled = 0;
const windows: number[] = [];
const completedByWindow: number[] = [];
let counted = 0;
let completed = 0;
const ticker = setInterval(() => {
  windows.push(Math.round(((scheduled - counted) * 1000) / windowMs));
  counted = scheduled;
  void store.countByStatus().then((counts: { completed: number }) => {
    completedByWindow.push(Math.round(((counts.completed - completed) * 1000) / windowMs));
    completed = counts.completed;
  });
}, windowMs);
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (performance.now() < end) {
      await engine.schedule({ task: "history-w0", data: {}, eager: false });
      scheduled += 1;
    }
  }),
);
clearInterval(ticker);
const completedInTime = (await store.countByStatus()).completed;
await engine.stop();
let claimUsPerExecution: number | null = null;
if (statements) {
  const { rows } = await db.query<{ ms: number }>(
    "SELECT COALESCE(sum(total_exec_time), 0)::float8 AS ms FROM pg_stat_statements WHERE query LIKE '%pick_due%'",
  );
  claimUsPerExecution = +(((rows[0]?.ms ?? 0) * 1000) / scheduled).toFixed(1);
}
console.log(
  JSON.stringify({
    root,
    seconds,
    scheduled,
    completed: completedInTime,
    scheduledPerSecond: windows.slice(0, 5),
    completedPerSecond: completedByWindow.slice(0, 5),
    claimUsPerExecution,
  }),
);
await db.end();
await store.close();
await database.drop();
