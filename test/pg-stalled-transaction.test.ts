/**
 * A process that stalls inside a transaction (frozen by SIGSTOP, paused by its host, cut off between two
 * statements) holds that transaction's row locks, and every other worker's claim skips locked rows. The
 * chaos run met it: a zombie worker frozen mid-transaction kept two executions from being taken over long
 * after its lease ran out. PostgreSQL ends such a session after the store's `idleInTransactionMs`, so the
 * rows are free again.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as pause } from "node:timers/promises";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { inTransaction, type SqlContext } from "../src/store/postgres/sql-context.js";
import { TestSchema } from "./support/postgres.js";

const schema = new TestSchema("stall");
after(() => schema.drop());

/** The store's own SQL context: the stalled transaction runs as the store runs its own. */
function contextOf(store: PostgresStore): SqlContext {
  return (store as unknown as { ctx: SqlContext }).ctx;
}

/** Claims for `other` until it gets a row or `ms` pass (the claim is the event waited for). */
async function claimWithin(store: PostgresStore, ms: number): Promise<string[]> {
  for (const deadline = Date.now() + ms; ; await pause(50)) {
    const result = await store.claim({ workerId: "other", tasks: ["stalled"], limit: 1, now: Date.now(), leaseMs: 30_000 });
    if (result.claimed.length > 0 || Date.now() > deadline) return result.claimed.map((c) => c.execution.id);
  }
}

test("a transaction left open by a stalled process is ended by PostgreSQL, and its locked rows are claimed again", async () => {
  const stalled = await schema.open({ idleInTransactionMs: 300 });
  const other = await schema.open();
  let resume!: () => void;
  const stall = new Promise<void>((settle) => {
    resume = settle;
  });
  let transaction: Promise<unknown> = Promise.resolve();
  try {
    const now = Date.now();
    const id = `exec-${now.toString(36).padStart(9, "0")}stall0000000000001`;
    await stalled.createExecution({ id, task: "stalled", dataJson: "{}", idempotencyKey: null, now });
    const first = await stalled.claim({ workerId: "stalled", tasks: ["stalled"], limit: 1, now, leaseMs: 1 });
    assert.deepEqual(
      first.claimed.map((c) => c.execution.id),
      [id],
    );

    // As a worker frozen between two statements of its transaction: the row is locked, nothing follows.
    let locked!: () => void;
    const isLocked = new Promise<void>((settle) => {
      locked = settle;
    });
    transaction = inTransaction(contextOf(stalled), async (client) => {
      await client.query(`SELECT id FROM ${schema.name}.executions WHERE id = $1 FOR UPDATE`, [id]);
      locked();
      await stall;
    }).catch((error: unknown) => error);
    await isLocked;
    const meanwhile = await other.claim({ workerId: "other", tasks: ["stalled"], limit: 1, now: Date.now(), leaseMs: 30_000 });
    assert.deepEqual(meanwhile.claimed, [], "a locked row is skipped while the transaction is open");

    assert.deepEqual(await claimWithin(other, 15_000), [id], "the lapsed lease is taken over once the stalled session is gone");
    resume();
    assert.ok((await transaction) instanceof Error, "the stalled process finds its transaction gone");
  } finally {
    resume();
    await transaction;
    await stalled.close();
    await other.close();
  }
});

test("idleInTransactionMs must be a whole number of milliseconds, at least 1", async () => {
  for (const idleInTransactionMs of [0, -5, 1.5, Number.NaN])
    await assert.rejects(schema.open({ idleInTransactionMs }), /idleInTransactionMs must be a whole number/);
});
