/**
 * Statements planned while the table was small stay index lookups once it has grown. The store keeps
 * its statements prepared for a connection's life, and PostgreSQL settles on one generic plan per
 * statement after five runs; on a table of a page or two a sequential scan is the cheapest plan for a
 * lookup by id, and that plan stays while the table grows (until an ANALYZE invalidates it, never where
 * autovacuum is off). Every statement of this store has an index path, so its connections plan without
 * sequential scans. Checked from PostgreSQL's own table statistics: a worker's claims and completions
 * on a grown table read no row through a sequential scan. JIT is off with it: a statement whose only
 * plan is a sequential scan carries the disabled plan's penalty in its cost and would otherwise be
 * compiled on every run (docs/decisions/044-plans-without-sequential-scans.md).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type pg from "pg";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { adminQuery, TestSchema } from "./support/postgres.js";

const schema = new TestSchema("growth");
after(() => schema.drop());

const BACKLOG = 3000;
/** More runs than PostgreSQL's five custom plans before it settles on a generic one. */
const RUNS = 10;

async function tableStats(): Promise<{ seqRead: number; inserted: number }> {
  const rows = await adminQuery<{ seq_tup_read: string; n_tup_ins: string }>(
    "SELECT seq_tup_read, n_tup_ins FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'executions'",
    [schema.name],
  );
  return { seqRead: Number(rows[0]?.seq_tup_read ?? 0), inserted: Number(rows[0]?.n_tup_ins ?? 0) };
}

test("claims and completions planned on a small table do not scan it once it has grown", async () => {
  const store = await schema.open({ poolSize: 1 });
  const task = defineTask({ name: "growth-w0", run: (_ctx, data: { i: number }) => data.i });
  const engine = await Engine.start({ store, tasks: [task], logger: silentLogger, worker: { concurrency: 1, eagerStart: false } });
  // Rows of a task no worker here runs grow the table without being claimed.
  const backlogStore = await schema.open();
  const idle = defineTask({ name: "growth-idle", run: () => null });
  const backlog = await Engine.start({ store: backlogStore, tasks: [idle], logger: silentLogger, worker: false });
  try {
    const runOne = async (i: number) => {
      const { execution } = await engine.schedule({ task: "growth-w0", data: { i } });
      assert.equal((await engine.waitForTerminal(execution.id, 30_000)).status, "completed");
    };
    for (let i = 0; i < RUNS; i++) await runOne(i);
    for (let start = 0; start < BACKLOG; start += 1000) {
      await backlog.scheduleMany(Array.from({ length: 1000 }, (_, k) => ({ task: "growth-idle", data: { i: start + k } })));
    }
    for (let i = 0; i < RUNS; i++) await runOne(RUNS + i);
  } finally {
    await engine.stop();
    await backlog.stop();
    await store.close();
    await backlogStore.close();
  }
  // A backend reports its statistics when it ends at the latest: the pools are closed, wait for them.
  let stats = await tableStats();
  for (let waited = 0; stats.inserted < BACKLOG + 2 * RUNS; waited += 100) {
    assert.ok(waited < 30_000, `table statistics never arrived: ${JSON.stringify(stats)}`);
    await delay(100);
    stats = await tableStats();
  }
  assert.ok(stats.seqRead < BACKLOG, `the grown table was read by sequential scans: ${stats.seqRead} rows`);
});

test("a read whose only plan is a sequential scan is not compiled", async () => {
  const store = await schema.open({ poolSize: 1 });
  try {
    const pool = (store as unknown as { db: { pool: pg.Pool } }).db.pool;
    const settings = await pool.query("SELECT current_setting('enable_seqscan') AS seqscan, current_setting('jit') AS jit");
    assert.deepEqual(settings.rows[0], { seqscan: "off", jit: "off" });
    const explained = await pool.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT status, SUM(n) FROM ${schema.name}.status_counts GROUP BY status`,
    );
    const plan = explained.rows[0]["QUERY PLAN"][0];
    assert.equal(plan.JIT, undefined, `the count read was compiled: ${JSON.stringify(plan.JIT)}`);
  } finally {
    await store.close();
  }
});
