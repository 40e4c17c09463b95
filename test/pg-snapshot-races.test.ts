/**
 * READ COMMITTED races of single-statement writes on PostgreSQL, made deterministic by holding a lock
 * from a connection of the test's own and releasing it once the statement under test is waiting on it:
 *
 * - a claim whose statement began before an event was delivered, but whose pick_due (fresh snapshots
 *   inside the function) locked the row after the delivery committed, must hand back the steps as the
 *   delivery left them (the wait completed), or the run parks on it again and waits until its timeout;
 * - a delivery that waited for the row lock while the run parked must see the wait the park recorded;
 * - a row committed between a claim statement's snapshot and its pick_due's is locked by the claim but not
 *   visible to its UPDATE: the claim must report it left, or its floor rises over rows it never scanned.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { after, describe, test } from "node:test";
import pg from "pg";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { adminQuery, TestSchema, testDatabaseUrl } from "./support/postgres.js";
import { eventually } from "./support/server-process.js";
import {
  applyOne,
  checkpoint,
  claimRows,
  create,
  createRunning,
  createWaitingForEvent,
  eventWait,
  LEASE_MS,
  newId,
  T0,
} from "./support/store-fixtures.js";

const schema = new TestSchema("t_race");
const stores: PostgresStore[] = [];
const clients: pg.Client[] = [];

async function open(): Promise<PostgresStore> {
  const store = await schema.open();
  stores.push(store);
  return store;
}

/** A connection outside the store's pool, holding whatever lock the test takes in its transaction. */
async function holder(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  clients.push(client);
  await client.query("BEGIN");
  return client;
}

/** Resolves once `n` of the store's connections wait on a lock (the statements under test are blocked). */
function blockedStatements(n: number): Promise<number> {
  return eventually(
    async () => {
      const rows = await adminQuery<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [`zart:${schema.name}`],
      );
      const blocked = Number(rows[0]?.n ?? 0);
      return blocked >= n ? blocked : undefined;
    },
    10_000,
    `${n} statement(s) waiting on a lock`,
  );
}

/**
 * Puts an advisory lock in front of pick_due: a claim statement that calls it has taken its snapshot and
 * then waits, while the test commits what the claim's own statements must then see. Returns the lock's key.
 */
async function gatePickDue(): Promise<number> {
  const key = randomInt(1, 2 ** 31 - 1);
  const s = schema.name;
  await adminQuery(`ALTER FUNCTION ${s}.pick_due(bigint, text[], integer, text[], bigint, boolean) RENAME TO pick_due_inner`);
  await adminQuery(`
    CREATE FUNCTION ${s}.pick_due(now_ms bigint, task_names text[], lim integer, excluded text[] DEFAULT '{}',
      floor_ms bigint DEFAULT NULL, tiered boolean DEFAULT false)
    RETURNS TABLE (id text, fresh boolean, due_at bigint, old_status text, declined boolean, contended boolean)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(1515870899, ${key});
      RETURN QUERY SELECT * FROM ${s}.pick_due_inner(now_ms, task_names, lim, excluded, floor_ms, tiered);
    END $$`);
  return key;
}

async function ungatePickDue(): Promise<void> {
  const s = schema.name;
  await adminQuery(`DROP FUNCTION ${s}.pick_due(bigint, text[], integer, text[], bigint, boolean)`);
  await adminQuery(`ALTER FUNCTION ${s}.pick_due_inner(bigint, text[], integer, text[], bigint, boolean) RENAME TO pick_due`);
}

after(async () => {
  for (const client of clients) await client.end().catch(() => {});
  for (const store of stores) await store.close();
  await schema.drop();
});

describe("postgres snapshot races", () => {
  test("a claim that locks a row after an event was delivered to it gets the steps with the wait completed", async () => {
    const store = await open();
    // A second pool: the claim blocks one connection, and the delivery must not queue behind it.
    const deliverer = await open();
    const task = `race-${newId()}`;
    const waiting = await createWaitingForEvent(store, "go", { task });
    // pick_due pauses on an advisory lock before it locks anything: the claim statement has taken its
    // snapshot by then, and the delivery commits while it waits.
    const key = await gatePickDue();
    try {
      const gate = await holder();
      await gate.query("SELECT pg_advisory_xact_lock(1515870899, $1)", [key]);
      const claim = claimRows(store, { workerId: "w-race", tasks: [task], limit: 1, now: T0 + 1000, leaseMs: LEASE_MS });
      await blockedStatements(1);
      const delivered = await deliverer.deliverEvent({ executionId: waiting.id, eventName: "go", payloadJson: '{"add":1}', now: T0 + 500 });
      assert.equal(delivered.outcome, "delivered");
      await gate.query("COMMIT");
      const claimed = await claim;
      assert.equal(claimed.length, 1, "the claim took the row the delivery made runnable");
      const go = claimed[0]!.steps.find((step) => step.name === "go");
      assert.equal(go?.state, "completed", "the claimed steps show the delivered event");
      assert.equal(go?.resultJson, '{"add":1}');
    } finally {
      await ungatePickDue();
    }
  });

  test("a row committed after a claim's snapshot but locked by its pick_due is left with a notice, not lost below the floor", async () => {
    const store = await open();
    const creator = await open();
    const task = `race-${newId()}`;
    // Due long before the claims' time; priority 0, so claims read it from their floor up.
    const early = await create(store, { task, now: T0 });
    const key = await gatePickDue();
    try {
      const gate = await holder();
      await gate.query("SELECT pg_advisory_xact_lock(1515870899, $1)", [key]);
      const request = { workerId: "w-race", tasks: [task], limit: 1, now: T0 + 10_000, leaseMs: LEASE_MS };
      const first = store.claim(request);
      await blockedStatements(1);
      // Committed after the claim's snapshot, before pick_due's: its priority puts it first in line, so
      // pick_due locks it and asks nothing more, but the claim's UPDATE, reading the older snapshot, cannot
      // see it.
      const late = await create(creator, { task, now: T0 + 9_000, priority: 1 });
      await gate.query("COMMIT");
      const result = await first;
      assert.ok(
        result.claimed.length === 1 || result.more,
        "a claim that took less than it locked says more may wait, so the queue is not taken for drained",
      );
      // The next claims start their scan at the floor the first one left (no scan from the start is due).
      const seen = new Set(result.claimed.map((c) => c.execution.id));
      for (let round = 0; round < 3; round++) {
        for (const c of await claimRows(store, { ...request, limit: 10, now: T0 + 10_001 + round })) seen.add(c.execution.id);
      }
      assert.ok(seen.has(late.id), "the late row is claimed");
      assert.ok(seen.has(early.id), "the row due before both is claimed: the floor did not rise over it");
    } finally {
      await ungatePickDue();
    }
  });

  test("a delivery that waited for the row while the run parked delivers to the wait the park recorded", async () => {
    const store = await open();
    const deliverer = await open();
    const { execution, fence } = await createRunning(store, { task: `race-${newId()}` });
    const rowLock = await holder();
    await rowLock.query(`SELECT id FROM ${schema.name}.executions WHERE id = $1 FOR UPDATE`, [execution.id]);
    const parked = applyOne(
      store,
      checkpoint(
        fence,
        { transition: "park", currentStep: "go", waitingForEvent: "go", wakeAt: null, stepsCompleted: 0 },
        { steps: [eventWait(execution.id, "go")] },
      ),
    );
    await blockedStatements(1);
    // Its snapshot is taken now, before the park commits; the park holds the first place in the lock queue.
    const delivery = deliverer.deliverEvent({ executionId: execution.id, eventName: "go", payloadJson: "true", now: T0 + 10 });
    await blockedStatements(2);
    await rowLock.query("COMMIT");
    assert.equal(await parked, true);
    const outcome = await delivery;
    assert.deepEqual(outcome, { outcome: "delivered", task: execution.task });
    const after = await store.getExecution(execution.id);
    assert.equal(after?.status, "pending", "the delivery made the parked execution runnable");
    const { steps } = await store.getStepDetail(execution.id);
    assert.equal(steps.find((step) => step.name === "go")?.state, "completed");
  });
});
