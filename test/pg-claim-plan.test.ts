/**
 * The claim's cost does not grow with the backlog. A worker's claim first asks whether any due row is
 * concurrency-limited (the common answer: none). PostgreSQL caches the plan of that question for the
 * connection's life, and a plan made while the table had no statistics yet (a fresh schema, or a backlog
 * inserted since the last ANALYZE) walked every row of the task through `executions_task_status_created`
 * on every claim. The question is asked in due-time order, so the small `executions_due_limited` index is
 * its only plan. Checked from PostgreSQL's own index statistics: claims from a backlog read no entry of
 * the task index.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { adminQuery, TestSchema } from "./support/postgres.js";

const schema = new TestSchema("plan");
after(() => schema.drop());

const BACKLOG = 3000;
/** More claims than PostgreSQL's five custom plans before it settles on a generic one. */
const CLAIMS = 8;

interface IndexStats {
  indexrelname: string;
  idx_scan: string;
  idx_tup_read: string;
}

async function indexStats(): Promise<Map<string, { scans: number; read: number }>> {
  const rows = await adminQuery<IndexStats>(
    "SELECT indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes WHERE schemaname = $1 AND relname = 'executions'",
    [schema.name],
  );
  return new Map(rows.map((r) => [r.indexrelname, { scans: Number(r.idx_scan), read: Number(r.idx_tup_read) }]));
}

test("claims from a backlog never walk the task's rows", async () => {
  const store = await schema.open({ poolSize: 1 });
  const task = defineTask({ name: "plan-w0", run: (_ctx, data: { i: number }) => data.i });
  const api = await Engine.start({ store, tasks: [task], logger: silentLogger, worker: false });
  for (let start = 0; start < BACKLOG; start += 1000) {
    await api.scheduleMany(Array.from({ length: 1000 }, (_, k) => ({ task: "plan-w0", data: { i: start + k } })));
  }
  await api.stop();
  const now = Date.now() + 60_000;
  let claimed = 0;
  for (let k = 0; k < CLAIMS; k++) {
    const result = await store.claim({ workerId: "plan-worker", tasks: ["plan-w0"], limit: 10, now, leaseMs: 600_000 });
    claimed += result.claimed.length;
  }
  assert.equal(claimed, CLAIMS * 10);
  // A backend reports its statistics when it ends at the latest: close the pool, then wait for them.
  await store.close();
  let stats = await indexStats();
  for (let waited = 0; (stats.get("executions_due")?.scans ?? 0) < CLAIMS; waited += 100) {
    assert.ok(waited < 30_000, `index statistics never arrived: ${JSON.stringify([...stats])}`);
    await delay(100);
    stats = await indexStats();
  }
  const read = stats.get("executions_task_status_created")?.read;
  assert.equal(read, 0, `the claims read ${read} entries of the task index`);
  assert.ok((stats.get("executions_due")?.read ?? 0) >= claimed, "the claims took their rows through executions_due");
});
