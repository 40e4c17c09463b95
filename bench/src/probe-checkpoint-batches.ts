/**
 * Probe behind docs/decisions/001-prepared-statements.md and 013-lone-checkpoint-statement.md (not part of
 * the benchmark tables): the store's two checkpoint statements (src/store/postgres/statements.ts), timed
 * one call at a time on a table of 50,000 other rows, each form alternating with the others round by round:
 *
 * - a lone completion (one step record with it) by the lean single-row statement and by the batch statement
 *   with one element, each prepared (named) and unnamed (parsed and planned on every call);
 * - batches of 4, 16 and 64 completions by the batch statement (what one more checkpoint in a batch costs).
 *
 * Prints one JSON line per case: median and p90 ms per call.
 *
 *   npx tsx src/probe-checkpoint-batches.ts [rounds, default 200]
 */
import pg from "pg";
import type { StepRecord } from "../../dist/core/types.js";
import { openStore } from "../../dist/store/open-store.js";
import { preparedWith, type SqlContext } from "../../dist/store/postgres/sql-context.js";
import { batchSql, singleCheckpointSql } from "../../dist/store/postgres/statements.js";
import { stepsJson } from "../../dist/store/postgres/step-json.js";
import type { Checkpoint } from "../../dist/store/store.js";
import { checkpointParams, workerTransition } from "../../dist/store/writes.js";
import { freshProbeDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const rounds = Number(process.argv[2] ?? 200);
const database = await freshProbeDatabase(probeDatabase("zbench_probe_checkpoints"));
const url = database.url;
const store = await openStore(url, { schema: "zart" });
await store.migrate();
const pool = new pg.Pool({ connectionString: url, max: 1 });
const ctx: SqlContext = { pool, s: '"zart"' };
await pool.query(
  "INSERT INTO zart.executions (id, task, status, data, created_at, updated_at) SELECT 'x' || g, 'other', 'completed', '{}', 1, 1 FROM generate_series(1, 50000) g",
);
await pool.query("VACUUM ANALYZE");

const now = Date.now();
let made = 0;

/** `size` fresh executions, claimed, each with a completion that records one step. */
async function completions(size: number): Promise<Checkpoint[]> {
  for (let k = 0; k < size; k++)
    await store.createExecution({ id: `exec-p${made++}`, task: "t", dataJson: "{}", idempotencyKey: null, now });
  const { claimed } = await store.claim({ workerId: "probe", tasks: ["t"], limit: size, now, leaseMs: 60_000 });
  return claimed.map(({ execution }) => {
    const step: StepRecord = {
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
      seq: 0,
      childId: null,
      copiedFrom: null,
      settledIn: execution.leaseToken,
      executionAttempt: 1,
    } as StepRecord;
    return {
      fence: { executionId: execution.id, leaseToken: execution.leaseToken },
      owner: { task: "t", parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null },
      now,
      patch: { transition: "complete", outputJson: "1" },
      stepsCompleted: 1,
      crashes: 0,
      steps: [step],
    };
  });
}

function single(c: Checkpoint): pg.QueryConfig {
  const transition = workerTransition(c.patch);
  return preparedWith(
    ctx,
    `probe_single_${transition.name}`,
    () => singleCheckpointSql(ctx.s, transition, { attempts: false, consumed: false }),
    [c.fence.executionId, c.fence.leaseToken, JSON.stringify(stepsJson(c.steps ?? []))],
    checkpointParams(c),
  );
}

function batch(cs: Checkpoint[]): pg.QueryConfig {
  const json = JSON.stringify(
    cs.map((c, i) => ({
      i,
      id: c.fence.executionId,
      token: c.fence.leaseToken,
      kind: c.patch.transition,
      p: checkpointParams(c),
      steps: stepsJson(c.steps ?? []),
      attempts: [],
      consumed: [],
    })),
  );
  return preparedWith(ctx, "probe_batch", () => ({ text: batchSql(ctx.s), names: [] }), [json], {});
}

const unnamed = (query: pg.QueryConfig): pg.QueryConfig => ({ text: query.text, values: query.values });

type Case = { name: string; size: number; query: (cs: Checkpoint[]) => pg.QueryConfig };
const cases: Case[] = [
  { name: "lone completion, single-row statement, prepared", size: 1, query: (cs) => single(cs[0] as Checkpoint) },
  { name: "lone completion, single-row statement, unnamed", size: 1, query: (cs) => unnamed(single(cs[0] as Checkpoint)) },
  { name: "lone completion, batch statement, prepared", size: 1, query: batch },
  { name: "lone completion, batch statement, unnamed", size: 1, query: (cs) => unnamed(batch(cs)) },
  { name: "4 completions, batch statement, prepared", size: 4, query: batch },
  { name: "16 completions, batch statement, prepared", size: 16, query: batch },
  { name: "64 completions, batch statement, prepared", size: 64, query: batch },
];
const times = cases.map((): number[] => []);
for (let round = 0; round < rounds; round++) {
  for (const [k, c] of cases.entries()) {
    if (c.size > 4 && round % 4 !== 0) continue; // fewer rounds of the big batches: they are steadier
    const cs = await completions(c.size);
    const started = performance.now();
    const result = await pool.query(c.query(cs));
    (times[k] as number[]).push(performance.now() - started);
    const written = result.rows.filter((row: { id: string | null }) => row.id !== null).length;
    if (written !== c.size) throw new Error(`${c.name}: ${written} rows written, expected ${c.size}`);
  }
}
const at = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? Number.NaN;
for (const [k, c] of cases.entries()) {
  const xs = times[k] as number[];
  console.log(JSON.stringify({ case: c.name, calls: xs.length, p50Ms: +at(xs, 0.5).toFixed(3), p90Ms: +at(xs, 0.9).toFixed(3) }));
}
await pool.end();
await store.close();
await database.drop();
