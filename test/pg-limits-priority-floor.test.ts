/**
 * A concurrency limit on PostgreSQL must hold for limited rows of a non-zero priority whose
 * due time lies below the claim floor (claim-floor.ts). The floor bounds only the scan of priority-0 rows,
 * but pick_due used it also in its question "is any due row limited?", so a negative-priority limited row
 * left behind by a claim that filled up with plain rows was later taken on the path that checks no slot.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { adminQuery, TestSchema } from "./support/postgres.js";
import { LEASE_MS, newId, T0 } from "./support/store-fixtures.js";

const schema = new TestSchema("limfloor");
const opened: PostgresStore[] = [];
after(async () => {
  for (const store of opened) await store.close();
  await schema.drop();
});

test("limited rows of negative priority due below the claim floor still wait for a slot", async () => {
  const store = await schema.open();
  opened.push(store);
  const limited = `limited-${newId()}`;
  const plain = `plain-${newId()}`;
  const tasks = [limited, plain];
  // Two limited rows (limit 1, one group) of priority -1, due first; then two plain rows.
  const low = [newId(), newId()];
  for (const [k, id] of low.entries()) {
    await store.createExecution({
      id,
      task: limited,
      dataJson: "{}",
      idempotencyKey: null,
      now: T0 + k,
      priority: -1,
      concurrency: { key: "g", limit: 1 },
    });
  }
  for (const k of [10, 11]) {
    await store.createExecution({ id: newId(), task: plain, dataJson: "{}", idempotencyKey: null, now: T0 + k });
  }
  // A claim of one row takes the first plain row (priority 0 comes before negative priorities); the floor
  // rises to its due time, above the limited rows' due times.
  const first = await store.claim({ workerId: "w", tasks, limit: 1, now: T0 + 100, leaseMs: LEASE_MS });
  assert.deepEqual(
    first.claimed.map((c) => c.execution.task),
    [plain],
  );
  // The next claim (within the full-scan period) has room for everything left.
  const second = await store.claim({ workerId: "w", tasks, limit: 10, now: T0 + 200, leaseMs: LEASE_MS });
  const running = await adminQuery<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${schema.name}.executions WHERE task = $1 AND status = 'running'`,
    [limited],
  );
  assert.equal(running[0]?.n, 1, `at most one limited row runs; claimed ${second.claimed.map((c) => c.execution.task).join(", ")}`);
  assert.equal(second.claimed.filter((c) => c.execution.task === limited).length, 1);
});
