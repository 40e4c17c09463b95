/**
 * PostgreSQL: inserts and reruns racing what other sessions do to the same rows, each race forced at its
 * exact point with a second connection (no timing):
 * - an insert stopped by an idempotency key whose holder is pruned before the holder is read (alone, and in
 *   a batch) inserts again, since the key is free: before, it threw after the batch had committed;
 * - two batches taking the same keys in opposite orders deadlock; the one PostgreSQL rolls back runs again
 *   and answers the other's rows as the keys' holders, instead of throwing the database's error;
 * - a rerun from a step whose source a prune has picked waits for the prune and answers not_found, instead
 *   of creating a rerun whose copies the prune then took away.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { createExecutions, insertExecution } from "../src/store/postgres/create.js";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import type { SqlContext } from "../src/store/postgres/sql-context.js";
import type { Notice } from "../src/store/store.js";
import { TestSchema, testDatabaseUrl, untilLockWaited } from "./support/postgres.js";
import { applyOne, checkpoint, create, createRunning, newId, stepRecord, T0 } from "./support/store-fixtures.js";

const schema = new TestSchema("race");
let store: PostgresStore;
let pool: pg.Pool;

before(async () => {
  store = await schema.open();
  pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });
});

after(async () => {
  await store.close();
  await pool.end();
  await schema.drop();
});

const newRow = (task: string, key: string | null) => ({ id: newId(), task, dataJson: "{}", idempotencyKey: key, now: T0 });

/** A context whose next INSERT is followed, before it answers, by the deletion of `key`'s holder: a prune in between. */
function pruningAfterInsert(key: string): SqlContext {
  let armed = true;
  const query = async (config: pg.QueryConfig | string, values?: unknown[]) => {
    const result = await pool.query(config as pg.QueryConfig, values);
    const text = typeof config === "string" ? config : config.text;
    if (armed && text.trimStart().startsWith("INSERT INTO")) {
      armed = false;
      await pool.query(`DELETE FROM ${schema.name}.executions WHERE idempotency_key = $1`, [key]);
    }
    return result;
  };
  return { pool: { query } as unknown as pg.Pool, s: schema.name };
}

describe("inserts racing a prune of the key's holder", () => {
  test("one insert: the key is free, so it is created", async () => {
    const task = `one-${newId()}`;
    const key = `k-${newId()}`;
    await create(store, { task, key });
    const input = newRow(task, key);
    const notices: Notice[] = [];
    const ctx = pruningAfterInsert(key);
    const result = await insertExecution(ctx, ctx.pool, input, notices);
    assert.deepEqual([result.created, result.execution.id], [true, input.id]);
  });

  test("a batch: every row is created or answered, none thrown after the commit", async () => {
    const task = `many-${newId()}`;
    const key = `k-${newId()}`;
    await create(store, { task, key });
    const inputs = [newRow(task, `fresh-${newId()}`), newRow(task, key)];
    const { result } = await createExecutions(pruningAfterInsert(key), inputs);
    assert.deepEqual(
      result.map((r) => [r.created, r.execution.id]),
      inputs.map((i) => [true, i.id]),
    );
  });
});

test("two batches taking the same keys in opposite orders: the one PostgreSQL rolls back runs again", async () => {
  const task = `dl-${newId()}`;
  const [first, second] = [`k1-${newId()}`, `k2-${newId()}`];
  const model = await create(store, { task });
  const other = await pool.connect();
  try {
    await other.query("BEGIN");
    await other.query("SET LOCAL deadlock_timeout = '60s'");
    // The other batch, in the other order: a copy of a row under a new id and `second`'s key first.
    const copy = `INSERT INTO ${schema.name}.executions
      SELECT (jsonb_populate_record(NULL::${schema.name}.executions, to_jsonb(e) || jsonb_build_object('id', $1::text, 'idempotency_key', $2::text))).*
      FROM ${schema.name}.executions e WHERE e.id = $3`;
    const theirs = [newId(), newId()];
    await other.query(copy, [theirs[1], second, model.id]);
    const batch = store.createExecutions([newRow(task, first), newRow(task, second)]);
    await untilLockWaited(schema.name); // our batch has `first` and waits for `second`
    await other.query(copy, [theirs[0], first, model.id]); // the cycle: PostgreSQL breaks it by rolling our batch back
    await other.query("COMMIT");
    const results = await batch;
    assert.deepEqual(
      results.map((r) => [r.created, r.execution.id]),
      [
        [false, theirs[0]],
        [false, theirs[1]],
      ],
    );
  } finally {
    await other.query("ROLLBACK").catch(() => {});
    other.release();
  }
});

test("a rerun from a step whose source a prune has picked waits for it and answers not_found", async () => {
  const task = `rr-${newId()}`;
  const { execution, fence } = await createRunning(store, { task });
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  const steps = [stepRecord(execution.id, "a", { seq: 1 }), stepRecord(execution.id, "b", { seq: 2 })];
  await applyOne(store, checkpoint(fence, { transition: "complete", outputJson: "1" }, { steps, owner }));
  const prune = await pool.connect();
  try {
    await prune.query("BEGIN");
    await prune.query(`SELECT 1 FROM ${schema.name}.executions WHERE id = $1 FOR UPDATE`, [execution.id]);
    const rerun = store.rerunExecution({ ...newRow(task, null), rerunOf: execution.id }, "b");
    await untilLockWaited(schema.name, rerun);
    await prune.query(`DELETE FROM ${schema.name}.steps WHERE execution_id = $1`, [execution.id]);
    await prune.query(`DELETE FROM ${schema.name}.executions WHERE id = $1`, [execution.id]);
    await prune.query("COMMIT");
    assert.deepEqual(await rerun, { outcome: "not_found" });
  } finally {
    await prune.query("ROLLBACK").catch(() => {});
    prune.release();
  }
});
