/**
 * A process that stalls inside a transaction (frozen by SIGSTOP, paused by its host, cut off between two
 * statements) holds that transaction's row locks, and every other worker's claim skips locked rows. The
 * chaos run met it: a zombie worker frozen mid-transaction kept two executions from being taken over long
 * after its lease ran out. PostgreSQL ends such a session after the store's `idleInTransactionMs`, so the
 * rows are free again. It met the other side too: a stalled transaction holding a row that a healthy
 * worker runs held up that worker's lease renewal, and all its leases lapsed; the bound the CLI derives
 * from the lease (`idleInTransactionFor`) ends the stall before they do.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as pause } from "node:timers/promises";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { idleInTransactionFor, inTransaction, type SqlContext } from "../src/store/postgres/sql-context.js";
import { isTransientStoreError } from "../src/store/store-errors.js";
import { TestSchema } from "./support/postgres.js";

const schema = new TestSchema("stall");
after(() => schema.drop());

/** The store's own SQL context: the stalled transaction runs as the store runs its own. */
function contextOf(store: PostgresStore): SqlContext {
  return (store as unknown as { ctx: SqlContext }).ctx;
}

/** A transaction of ours left open: `resume` lets it go on; `ended` settles with its error, if any. */
interface Stall {
  ended: Promise<unknown>;
  resume: () => void;
}

/**
 * As a process frozen between two statements of its transaction: runs `sql` in one of `store`'s
 * transactions, then nothing follows until `resume`. Resolves once `sql` ran; `ended` settles with the
 * transaction's error (or undefined).
 */
async function stallAfter(store: PostgresStore, sql: string, id: string): Promise<Stall> {
  let resume!: () => void;
  const stall = new Promise<void>((settle) => {
    resume = settle;
  });
  let ran!: () => void;
  const hasRun = new Promise<void>((settle) => {
    ran = settle;
  });
  const ended = inTransaction(contextOf(store), async (client) => {
    await client.query(sql, [id]);
    ran();
    await stall;
  }).catch((error: unknown) => error);
  await Promise.race([hasRun, ended]);
  return { ended, resume };
}

/** Lets a stalled transaction go on; resolves with how it ended (its error, once PostgreSQL ended it). */
async function endStall(stall: Stall | null): Promise<unknown> {
  stall?.resume();
  return stall?.ended;
}

/** The stalled process, going on, finds its transaction gone, with an error its writes retry. */
async function assertStallEnded(stall: Stall): Promise<void> {
  const gone = await endStall(stall);
  assert.ok(gone instanceof Error, "the stalled process finds its transaction gone");
  assert.ok(isTransientStoreError(gone), `a write that met it is retried: ${String(gone)} (${(gone as { code?: string }).code})`);
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
  let stall: Stall | null = null;
  try {
    const now = Date.now();
    const id = `exec-${now.toString(36).padStart(9, "0")}stall0000000000001`;
    await stalled.createExecution({ id, task: "stalled", dataJson: "{}", idempotencyKey: null, now });
    const first = await stalled.claim({ workerId: "stalled", tasks: ["stalled"], limit: 1, now, leaseMs: 1 });
    assert.deepEqual(
      first.claimed.map((c) => c.execution.id),
      [id],
    );

    // The stalled worker's own row is locked, and nothing follows.
    stall = await stallAfter(stalled, `SELECT id FROM ${schema.name}.executions WHERE id = $1 FOR UPDATE`, id);
    const meanwhile = await other.claim({ workerId: "other", tasks: ["stalled"], limit: 1, now: Date.now(), leaseMs: 30_000 });
    assert.deepEqual(meanwhile.claimed, [], "a locked row is skipped while the transaction is open");

    assert.deepEqual(await claimWithin(other, 15_000), [id], "the lapsed lease is taken over once the stalled session is gone");
    await assertStallEnded(stall);
  } finally {
    await endStall(stall);
    await stalled.close();
    await other.close();
  }
});

test("a transaction stalled on a row another worker runs ends within a quarter of the lease: that worker keeps every lease", async () => {
  // Long enough that a slow machine between the renewal and the claim below cannot pass its end; 1 s bound.
  const leaseMs = 4000;
  const stalled = await schema.open({ idleInTransactionMs: idleInTransactionFor(leaseMs) });
  const worker = await schema.open();
  const other = await schema.open();
  let stall: Stall | null = null;
  try {
    const now = Date.now();
    const ids = ["parent", "single"].map((name) => `exec-${now.toString(36).padStart(9, "0")}${name.padEnd(19, "0")}`);
    for (const id of ids) await worker.createExecution({ id, task: "renewed", dataJson: "{}", idempotencyKey: null, now });
    const claimed = await worker.claim({ workerId: "healthy", tasks: ["renewed"], limit: 2, now, leaseMs });
    assert.equal(claimed.claimed.length, 2);
    const fences = claimed.claimed.map(({ execution }) => ({ executionId: execution.id, leaseToken: execution.leaseToken }));

    // Another process answers the first row (as a child's end answers its running parent), then stalls.
    stall = await stallAfter(stalled, `UPDATE ${schema.name}.executions SET wake_requested = 1 WHERE id = $1`, ids[0]!);

    // The healthy worker's renewal waits for that row, and comes back once PostgreSQL ended the stall.
    const held = await worker.renewLeases(fences, Date.now(), leaseMs);
    assert.deepEqual([...held].sort(), [...ids].sort());
    const meanwhile = await other.claim({ workerId: "other", tasks: ["renewed"], limit: 2, now: Date.now(), leaseMs });
    assert.deepEqual(meanwhile.claimed, [], "no lease lapsed: nothing of the healthy worker's is taken over");
    await assertStallEnded(stall);
  } finally {
    await endStall(stall);
    await stalled.close();
    await worker.close();
    await other.close();
  }
});

test("a statement that meets the server ending an idle transaction's session is retried, as after any lost connection", () => {
  assert.ok(
    isTransientStoreError(Object.assign(new Error("terminating connection due to idle-in-transaction timeout"), { code: "25P03" })),
  );
});

test("idleInTransactionMs must be a whole number of milliseconds, at least 1", async () => {
  for (const idleInTransactionMs of [0, -5, 1.5, Number.NaN])
    await assert.rejects(schema.open({ idleInTransactionMs }), /idleInTransactionMs must be a whole number/);
});
