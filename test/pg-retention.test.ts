/**
 * Retention on PostgreSQL beyond the behaviour suite: the prune lock is a session advisory lock, so four
 * stores (four pools) racing rounds over one schema never have two rounds running at once and delete each
 * row once; and a round whose connection dies frees the lock with it.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ZartError } from "../src/core/errors.js";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { PRUNE_LOCK_CLASS } from "../src/store/postgres/prune.js";
import type { PruneOutcome, Store } from "../src/store/store.js";
import { deferred } from "./support/deferred.js";
import { adminQuery, TestSchema } from "./support/postgres.js";
import { T0 } from "./support/store-fixtures.js";

const schema = new TestSchema("t_ret");
const opened: Store[] = [];
after(async () => {
  for (const store of opened) await store.close();
  await schema.drop();
});

async function open(): Promise<PostgresStore> {
  const store = await schema.open();
  opened.push(store);
  return store;
}

/** `n` executions of `task` that ended at T0 (bulk, through the store's batch insert, then cancelled). */
async function finished(store: Store, task: string, n: number): Promise<void> {
  const ids = Array.from({ length: n }, (_, i) => `exec-${task}-${String(i).padStart(6, "0")}`);
  await store.createExecutions(ids.map((id) => ({ id, task, dataJson: "{}", idempotencyKey: null, now: T0 })));
  for (const id of ids) assert.equal((await store.cancelExecution(id, T0)).outcome, "cancelled");
}

/** Backends holding this schema's prune lock. */
async function lockHolders(): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid
       AND l.objid = (hashtext($2)::bigint & 4294967295)::oid`,
    [PRUNE_LOCK_CLASS, schema.name],
  );
  return rows.map((r) => r.pid);
}

describe("retention on PostgreSQL", () => {
  test("four stores racing rounds: never two rounds at once, every row deleted once, the lock held while one runs", async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => open()));
    await finished(stores[0] as Store, "race", 600);
    let running = 0;
    let overlaps = 0;
    let holdersSeen = 0;
    const rounds = stores.map(async (store, n) => {
      const outcomes: PruneOutcome[] = [];
      // Each store keeps trying until the table is empty: most tries find the lock taken.
      for (let tries = 0; tries < 10_000; tries++) {
        let entered = false;
        const outcome = await store.pruneExecutions({
          completedBefore: T0 + 1,
          batchSize: 25,
          holder: `pruner-${n}`,
          now: () => T0,
          afterBatch: async () => {
            if (!entered) {
              entered = true;
              running += 1;
              if (running > 1) overlaps += 1;
              if ((await lockHolders()).length === 1) holdersSeen += 1;
            }
            await new Promise((resolve) => setImmediate(resolve));
            return true;
          },
        });
        if (entered) running -= 1;
        outcomes.push(outcome);
        if ((await store.countByStatus()).cancelled === 0) return outcomes;
      }
      throw new Error("the table never emptied");
    });
    const all = (await Promise.all(rounds)).flat();
    const ran = all.filter((o): o is { ran: true; pruned: number } => o.ran);
    assert.equal(overlaps, 0, "no two rounds ran at once");
    assert.equal(
      ran.reduce((sum, o) => sum + o.pruned, 0),
      600,
      "each row deleted by exactly one round",
    );
    assert.ok(
      all.some((o) => !o.ran),
      "some tries found the lock taken",
    );
    assert.ok(holdersSeen >= 1, "a running round holds the advisory lock");
    assert.deepEqual(await lockHolders(), [], "released after the last round");
    assert.deepEqual(await schema.countMismatches(), []);
  });

  test("a round whose connection dies frees the lock: the next round runs at once", async () => {
    const [first, second] = [await open(), await open()];
    await finished(first, "dies", 4);
    const inBatch = deferred();
    const goOn = deferred<boolean>();
    const dying = first.pruneExecutions({
      completedBefore: T0 + 1,
      batchSize: 1,
      holder: "first",
      now: () => T0,
      afterBatch: async () => {
        inBatch.resolve();
        return goOn.promise;
      },
    });
    await inBatch.promise;
    const [holder] = await lockHolders();
    assert.ok(holder !== undefined, "the round holds the lock");
    const prune = (store: Store) =>
      store.pruneExecutions({ completedBefore: T0 + 1, batchSize: 10, holder: "second", now: () => T0, afterBatch: async () => true });
    assert.deepEqual(await prune(second), { ran: false });
    // With a timeout, pg_terminate_backend returns once the backend has exited.
    await adminQuery("SELECT pg_terminate_backend($1, 10000)", [holder]);
    assert.deepEqual(await prune(second), { ran: true, pruned: 3 }, "the lock went with the session; the first batch stays deleted");
    goOn.resolve(true);
    await assert.rejects(dying, (error: unknown) => error instanceof ZartError && error.code === "store_unavailable");
    assert.deepEqual(await lockHolders(), []);
  });
});
