/**
 * Probe behind the per-batch timings in src/store/postgres/checkpoint-statement.ts: a batch of N
 * completions (one step each) applied by the in-order plpgsql loop `apply_checkpoints()` and by the
 * one-statement form, both prepared, on a table of 50,000 other rows; median ms per batch. For N = 1 also
 * the lean statement of single-checkpoint.ts, for the completion and for a step record alone (the
 * timings quoted there).
 *
 *   npx tsx src/probe-checkpoint-batches.ts
 */
import pg from "pg";
import { openStore } from "../../src/store/open-store.js";
import { encodeBatch } from "../../src/store/postgres/checkpoint-batch.js";
import { statementSql } from "../../src/store/postgres/checkpoint-statement.js";
import { applySingle } from "../../src/store/postgres/single-checkpoint.js";
import type { Checkpoint } from "../../src/store/store.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";

const DB = "zbench_probe";
const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.query(`CREATE DATABASE ${DB}`);
const url = urlForDatabase(adminUrl(), DB);
const store = await openStore(url, { schema: "zart" });
await store.migrate();
const db = new pg.Client(url);
await db.connect();
await db.query(
  "INSERT INTO zart.executions (id, task, status, data, created_at, updated_at) SELECT 'x' || g, 'other', 'completed', '{}', 1, 1 FROM generate_series(1, 50000) g",
);
await db.query("VACUUM ANALYZE");

const now = Date.now();
let made = 0;
const lean = { pool: new pg.Pool({ connectionString: url, max: 1 }), s: '"zart"' };
type Form = (batch: Checkpoint[]) => Promise<unknown>;
const sql =
  (name: string, text: string): Form =>
  (batch) =>
    db.query({ name, text, values: [encodeBatch(batch)] });
const forms: Record<string, Form> = {
  loop: sql("probe_loop", "SELECT i, applied, task_name FROM zart.apply_checkpoints($1::jsonb)"),
  statement: sql("probe_statement", statementSql('"zart"')),
  single: (batch) => applySingle(lean, batch[0] as Checkpoint),
};
/** A step record alone: the execution stays running. */
const asStepRecord = (batch: Checkpoint[]): Checkpoint[] =>
  batch.map((c) => ({ ...c, execution: { status: "running", currentStep: null, stepsCompleted: 1 } }));
const cases: Array<[number, string, Form, boolean]> = [
  [1, "loop, step record", forms.loop as Form, true],
  [1, "single, step record", forms.single as Form, true],
];
for (const size of [1, 4, 16, 64])
  for (const [form, run] of Object.entries(forms)) if (form !== "single" || size === 1) cases.push([size, form, run, false]);
for (const [size, form, run, stepOnly] of cases) {
  const times: number[] = [];
  for (let round = 0; round < Math.max(20, Math.ceil(400 / size)); round++) {
    for (let k = 0; k < size; k++) await store.createExecution({ id: `p${made++}`, task: "t", dataJson: "{}", idempotencyKey: null, now });
    const claimed = await store.claim({ workerId: "probe", tasks: ["t"], limit: size, now, leaseMs: 60_000 });
    const batch: Checkpoint[] = claimed.map(({ execution }) => ({
      fence: { executionId: execution.id, leaseToken: execution.leaseToken },
      now,
      steps: [
        {
          executionId: execution.id,
          name: "a",
          kind: "step",
          state: "completed",
          resultJson: "1",
          error: null,
          attempts: 1,
          wakeAt: null,
          schemaJson: null,
          startedAt: now,
          completedAt: now,
        },
      ],
      execution: { status: "completed", outputJson: "1", stepsCompleted: 1 },
    }));
    const started = performance.now();
    await run(stepOnly ? asStepRecord(batch) : batch);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`${size} checkpoint(s), ${form}: ${times[Math.floor(times.length / 2)]?.toFixed(3)} ms per batch`);
}
await db.end();
await lean.pool.end();
await store.close();
await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
await admin.end();
