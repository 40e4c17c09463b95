/**
 * PostgreSQL: a cancel locks the parent, then its children; a child's end locks the child, then its
 * parent. When the two meet, PostgreSQL aborts one of them with a deadlock. A cancel it aborted was rolled
 * back whole, so the store runs it again instead of answering the caller with the database's error (a 500
 * over HTTP). Here a transaction plays the child's end: it holds the child's row, and once the cancel waits
 * for it, asks for the parent's; its own deadlock timeout is long, so the cancel's side is the one aborted.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import pg from "pg";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { TestSchema, testDatabaseUrl, untilLockWaited } from "./support/postgres.js";
import { applyOne, checkpoint, createRunning, newId, stepRecord, T0 } from "./support/store-fixtures.js";

const schema = new TestSchema("cdl");
let store: PostgresStore;

before(async () => {
  store = await schema.open();
});

after(async () => {
  await store.close();
  await schema.drop();
});

test("a cancel that PostgreSQL aborts in a deadlock with a child's end is run again and cancels the tree", async () => {
  const task = `cd-${newId()}`;
  const { execution: parent, fence } = await createRunning(store, { task });
  const child = { id: newId(), task: `kid-${newId()}`, dataJson: "{}", idempotencyKey: null, now: T0 };
  const wait = stepRecord(parent.id, "kid", { kind: "child", state: "waiting", resultJson: null, completedAt: null, childId: child.id });
  const owner = { task, parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
  const park = { transition: "park" as const, currentStep: "kid", waitingForEvent: null, wakeAt: null };
  const children = [{ ...child, parent: { id: parent.id, step: "kid", cancelWithParent: true } }];
  assert.equal(await applyOne(store, checkpoint(fence, park, { steps: [wait], children, owner })), true);

  const other = new pg.Client(testDatabaseUrl());
  await other.connect();
  try {
    await other.query("BEGIN");
    await other.query("SET LOCAL deadlock_timeout = '60s'");
    await other.query(`SELECT 1 FROM ${schema.name}.executions WHERE id = $1 FOR UPDATE`, [child.id]);
    const cancelling = store.cancelExecution(parent.id, T0 + 5);
    await untilLockWaited(schema.name);
    // The cycle: the cancel holds the parent and waits for the child; this waits for the parent.
    await other.query(`UPDATE ${schema.name}.executions SET updated_at = updated_at WHERE id = $1`, [parent.id]);
    await other.query("COMMIT");
    const outcome = await cancelling;
    assert.equal(outcome.outcome, "cancelled");
    assert.equal((await store.getExecution(child.id))?.status, "cancelled");
  } finally {
    await other.query("ROLLBACK").catch(() => {});
    await other.end();
  }
});
