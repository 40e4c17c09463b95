/**
 * Probe for decision 044 (not part of the benchmark tables): what a worker's executions cost once the
 * table has grown under statements that were planned while it was small. One worker (concurrency 1,
 * queued: each execution inserted, noticed, claimed) runs 20 W1 executions on a fresh schema, so its
 * connection's statements settle on their generic plans; then N rows of a task nobody runs, due in a day,
 * are added from another store; then it runs M W1 executions one at a time. Prints their p50 and p95 in ms and
 * PostgreSQL's CPU per execution. Imports the engine from `ZART_ROOT` (default: this repository; a tree
 * compiled by compile-tree.ts compares two commits as the package runs).
 *
 *   ZART_ROOT=/tmp/ct-new npx tsx src/probe-pg-plans-on-growth.ts [backlog, default 100000] [runs, default 300]
 *   PROBE_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), schema zbench_plans_growth.
 */
import { join } from "node:path";
import { postgresCpuMs } from "./proc-cpu.js";
import { percentile } from "./stats.js";
import { defineTask, Engine, openStore, root } from "./zart-tree.js";

const [backlogArg = "100000", runsArg = "300"] = process.argv.slice(2);
const backlog = Number(backlogArg);
const runs = Number(runsArg);
const SCHEMA = "zbench_plans_growth";
const url = process.env.PROBE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const pg = (await import(join(root, "node_modules/pg/lib/index.js"))).default;
const admin = new pg.Client(url);
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);

const w1 = defineTask({
  name: "growth-w1",
  // biome-ignore lint/suspicious/noExplicitAny: the context type of whichever checkout is loaded.
  async run(ctx: any, data: { i: number }) {
    const a = await ctx.step("a", () => data.i + 1);
    const b = await ctx.step("b", () => a + 1);
    return ctx.step("c", () => b + 1);
  },
});
const idle = defineTask({ name: "growth-idle", run: () => null });

const store = await openStore(url, { schema: SCHEMA, poolSize: 2 });
const engine = await Engine.start({ store, tasks: [w1], worker: { concurrency: 1, eagerStart: false } });
const fillerStore = await openStore(url, { schema: SCHEMA });
const filler = await Engine.start({ store: fillerStore, tasks: [idle], worker: false, migrate: false });

async function runOne(i: number): Promise<number> {
  const started = performance.now();
  const { execution } = await engine.schedule({ task: "growth-w1", data: { i } });
  const done = await engine.waitForTerminal(execution.id, 60_000);
  if (done.status !== "completed") throw new Error(`execution ${execution.id} ended ${done.status}`);
  return performance.now() - started;
}

for (let i = 0; i < 20; i++) await runOne(i);
// Not due for a day: the rows grow the table and its indexes, not what a claim has to walk past.
const later = new Date(Date.now() + 86_400_000).toISOString();
for (let start = 0; start < backlog; start += 5000) {
  await filler.scheduleMany(
    Array.from({ length: Math.min(5000, backlog - start) }, (_, k) => ({ task: "growth-idle", data: { i: start + k }, startAt: later })),
  );
}
await admin.query("CHECKPOINT"); // the backlog's dirty pages written now, not during the measured runs
const pg0 = postgresCpuMs();
const samples: number[] = [];
for (let i = 0; i < runs; i++) samples.push(await runOne(20 + i));
const pgMs = postgresCpuMs() - pg0;
console.log(
  JSON.stringify({
    root,
    backlog,
    runs,
    p50: +percentile(samples, 50).toFixed(3),
    p95: +percentile(samples, 95).toFixed(3),
    postgresCpuMsPerExecution: +(pgMs / runs).toFixed(3),
  }),
);
await engine.stop();
await filler.stop();
await store.close();
await fillerStore.close();
await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
await admin.end();
