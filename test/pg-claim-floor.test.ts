/**
 * Claims on PostgreSQL start their scan of the due index at a floor (src/store/postgres/claim-floor.ts,
 * docs/decisions/037-postgres-claim-floor.md): below it lie only the dead entries that claims and ends
 * leave until VACUUM. Checked here: the floor skips them (PostgreSQL's own buffer counts for the index),
 * and no row is lost below it - a notice brings the floor down at once, a scan from the start finds what
 * no notice announced, and a clock that goes back scans from the start. Beside it, the `tiered` hint: a
 * claim after one that took rows with a priority reads the priority index once, and a wrong hint changes
 * no claim's answer.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { FULL_SCAN_EVERY_MS } from "../src/store/postgres/claim-floor.js";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import type { ClaimRequest, Notice } from "../src/store/store.js";
import { adminQuery, TestSchema, testDatabaseUrl } from "./support/postgres.js";
import { claimRows, LEASE_MS, NoticeRecorder, newId, T0 } from "./support/store-fixtures.js";

const schema = new TestSchema("floor");
const opened: PostgresStore[] = [];
after(async () => {
  for (const store of opened) await store.close();
  await schema.drop();
});

async function open(options: { poolSize?: number } = {}): Promise<PostgresStore> {
  const store = await schema.open(options);
  opened.push(store);
  return store;
}

const claimOf = (task: string, now: number, limit = 10): ClaimRequest => ({ workerId: "w", tasks: [task], limit, now, leaseMs: LEASE_MS });

/** A pending row written behind the store's back: no notice announces it. */
async function insertUnannounced(task: string, runnableAt: number): Promise<string> {
  const id = newId();
  await adminQuery(
    `INSERT INTO ${schema.name}.executions (id, task, status, data, created_at, updated_at, runnable_at)
     VALUES ($1, $2, 'pending', '{}', $3, $3, $3)`,
    [id, task, runnableAt],
  );
  return id;
}

interface DueIndexStats {
  scans: number;
  blocks: number;
}

/**
 * A due index's scans and buffer reads so far, once the store's one connection has reported at least
 * `scans` scans. A backend reports its statistics when idle; `pg_stat_force_next_flush` asks it to at once.
 */
async function dueIndexStats(store: PostgresStore, scans: number, index = "executions_due"): Promise<DueIndexStats> {
  const pool = (store as unknown as { db: { pool: pg.Pool } }).db.pool;
  await pool.query("SELECT pg_stat_force_next_flush()");
  for (let waited = 0; ; waited += 50) {
    const [row] = await adminQuery<{ scans: string; blocks: string }>(
      `SELECT u.idx_scan AS scans, io.idx_blks_hit + io.idx_blks_read AS blocks
         FROM pg_stat_user_indexes u JOIN pg_statio_user_indexes io USING (indexrelid)
        WHERE u.schemaname = $1 AND u.indexrelname = $2`,
      [schema.name, index],
    );
    const stats = { scans: Number(row?.scans ?? 0), blocks: Number(row?.blocks ?? 0) };
    if (stats.scans >= scans) return stats;
    assert.ok(waited < 30_000, `index statistics never arrived: ${JSON.stringify(stats)}`);
    await delay(50);
  }
}

test("a claim after a drained backlog starts above the backlog's dead index entries", async () => {
  const store = await open({ poolSize: 1 });
  const task = `drained-${newId()}`;
  const BACKLOG = 6000;
  for (let start = 0; start < BACKLOG; start += 500) {
    await store.createExecutions(
      Array.from({ length: 500 }, (_, k) => ({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 + start + k })),
    );
  }
  const drainAt = T0 + BACKLOG + 1000;
  let drained = 0;
  let claims = 0;
  for (;;) {
    const taken = await claimRows(store, claimOf(task, drainAt, 500));
    claims += 1;
    if (taken.length === 0) break;
    drained += taken.length;
  }
  assert.equal(drained, BACKLOG);
  const before = await dueIndexStats(store, claims);
  const MEASURED = 20;
  for (let k = 0; k < MEASURED; k++) {
    await store.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: drainAt + k });
    assert.equal((await claimRows(store, claimOf(task, drainAt + k))).length, 1, "the new row is claimed");
  }
  const afterward = await dueIndexStats(store, before.scans + MEASURED);
  const perClaim = (afterward.blocks - before.blocks) / MEASURED;
  // Each round descends the index three times (the insert, the claim's scan, the claimed row's new entry):
  // about 6 pages. A scan from the start also walks the backlog's 6,000 dead entries: about 40 more.
  assert.ok(perClaim <= 12, `each round read ${perClaim} pages of the due index`);
});

test("a row due below the floor is claimed once noticed, and by the next scan from the start when not", async () => {
  const store = await open();
  const peer = await open();
  const task = `below-${newId()}`;
  const t1 = T0 + 3_600_000;
  await store.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: t1 - 10 });
  assert.equal((await claimRows(store, claimOf(task, t1))).length, 1);
  assert.equal((await claimRows(store, claimOf(task, t1 + 1))).length, 0, "nothing left: the floor rises");

  // Written by another process whose clock is behind: its notice arrives over LISTEN and lowers the floor.
  const onStore = new NoticeRecorder(store);
  try {
    const late = await peer.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: t1 - 60_000 });
    await onStore.waitFor((n) => n.kind === "runnable" && n.task === task && n.at === t1 - 60_000, "the peer's row on this store");
    const taken = await claimRows(store, claimOf(task, t1 + 2));
    assert.deepEqual(
      taken.map((c) => c.execution.id),
      [late.execution.id],
    );
  } finally {
    onStore.unsubscribe();
  }
  assert.equal((await claimRows(store, claimOf(task, t1 + 3))).length, 0);

  // No notice: the floor hides it until a claim scans from the start, at most FULL_SCAN_EVERY_MS later.
  const hidden = await insertUnannounced(task, t1 - 120_000);
  assert.equal((await claimRows(store, claimOf(task, t1 + 4))).length, 0, "the floor applies");
  const found = await claimRows(store, claimOf(task, t1 + 4 + FULL_SCAN_EVERY_MS));
  assert.deepEqual(
    found.map((c) => c.execution.id),
    [hidden],
  );
});

test("a clock that goes back scans from the start", async () => {
  const store = await open();
  const task = `back-${newId()}`;
  const later = T0 + 7_200_000;
  assert.equal((await claimRows(store, claimOf(task, later))).length, 0);
  const id = await insertUnannounced(task, T0);
  const taken = await claimRows(store, claimOf(task, T0 + 100));
  assert.deepEqual(
    taken.map((c) => c.execution.id),
    [id],
  );
});

test("rows another instance creates below the claimers' floors are all claimed, each once, before any scan from the start", async () => {
  const claimers = await Promise.all([open(), open(), open()]);
  const creator = await open();
  const task = `spread-${newId()}`;
  const t = T0 + 10_800_000;
  // Each claimer's first claim scans from the start and leaves its floor a second below `t`.
  for (const store of claimers) assert.equal((await claimRows(store, claimOf(task, t))).length, 0);
  const ROWS = 300;
  const create = (async () => {
    for (let i = 0; i < ROWS; i += 10) {
      // Clocks behind by up to 3 s: every row is due below the floors, and only its notice can say so.
      const rows = Array.from({ length: 10 }, (_, k) => ({
        id: newId(),
        task,
        dataJson: "{}",
        idempotencyKey: null,
        now: t - 3000 + (((i + k) * 7919) % 3000),
      }));
      await creator.createExecutions(rows);
    }
  })();
  const claimed: string[] = [];
  let created = false;
  void create.then(() => {
    created = true;
  });
  // The claims' clock moves 1 ms a claim, so none reaches FULL_SCAN_EVERY_MS after the first: every row
  // must be found through its notice.
  const MAX_CLAIMS = FULL_SCAN_EVERY_MS - 200;
  await Promise.all(
    claimers.map(async (store) => {
      for (let k = 1; k <= MAX_CLAIMS && !(created && claimed.length >= ROWS); k++) {
        for (const c of await claimRows(store, claimOf(task, t + 100 + k, 7))) claimed.push(c.execution.id);
      }
    }),
  );
  await create;
  assert.equal(claimed.length, ROWS, "every row claimed");
  assert.equal(new Set(claimed).size, ROWS, "no row claimed twice");
});

test("a claim after one that took rows with a priority reads the priority index once; a stale hint claims the same rows", async () => {
  const store = await open({ poolSize: 1 });
  const task = `tiered-${newId()}`;
  await store.createExecutions(
    Array.from({ length: 20 }, (_, k) => ({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 + k, priority: 5 })),
  );
  const first = await claimRows(store, claimOf(task, T0 + 100, 5));
  assert.deepEqual(
    first.map((c) => c.execution.priority),
    [5, 5, 5, 5, 5],
  );
  const before = await dueIndexStats(store, 1, "executions_due_priority");
  assert.equal((await claimRows(store, claimOf(task, T0 + 101, 5))).length, 5);
  const afterward = await dueIndexStats(store, before.scans + 1, "executions_due_priority");
  // Without the hint: the question whether a row with a priority is due, then the tier's read.
  assert.equal(afterward.scans - before.scans, 1, "one scan of the priority index: the tier's read");

  // The hint is on, and besides the rest of priority 5 a row of priority 0 and an earlier one of priority
  // -1 are due: the claim still takes them by priority, then due time.
  const plain = newId();
  const low = newId();
  await store.createExecution({ id: plain, task, dataJson: "{}", idempotencyKey: null, now: T0 + 50 });
  await store.createExecution({ id: low, task, dataJson: "{}", idempotencyKey: null, now: T0 + 40, priority: -1 });
  const rest = await claimRows(store, claimOf(task, T0 + 102, 11));
  assert.deepEqual(
    rest.map((c) => c.execution.priority).sort((a, b) => b - a),
    [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0],
  );
  assert.ok(
    rest.some((c) => c.execution.id === plain),
    "priority 0 before -1",
  );
  assert.deepEqual(
    (await claimRows(store, claimOf(task, T0 + 102, 5))).map((c) => c.execution.id),
    [low],
  );
  // The hint is on (that claim took rows with a priority) though none with a priority is left: a row of
  // priority 0 is still taken, and then nothing.
  const late = newId();
  await store.createExecution({ id: late, task, dataJson: "{}", idempotencyKey: null, now: T0 + 103 });
  assert.deepEqual(
    (await claimRows(store, claimOf(task, T0 + 104, 5))).map((c) => c.execution.id),
    [late],
  );
  assert.equal((await claimRows(store, claimOf(task, T0 + 105, 5))).length, 0);
});

test("a row a claim leaves for the next one (its group's lock was busy) is announced at its due time to other processes", async () => {
  const store = await open();
  const peer = await open();
  const onPeer = new NoticeRecorder(peer);
  const task = `left-${newId()}`;
  const runnable = (n: Notice) => n.kind === "runnable" && n.task === task && n.at === T0;
  try {
    const id = newId();
    await store.createExecution({ id, task, dataJson: "{}", idempotencyKey: null, now: T0, concurrency: { key: "k", limit: 5 } });
    await onPeer.waitFor(runnable, "the creation's notice");
    onPeer.notices.length = 0;
    // Another claim decides this group's slots: its lock is held, so this claim leaves the row.
    const holder = new pg.Client({ connectionString: testDatabaseUrl() });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock(1515870811, hashtext($1 || chr(31) || $2))", [task, "k"]);
      const result = await store.claim(claimOf(task, T0 + 10));
      assert.deepEqual([result.claimed.length, result.more], [0, true], "left for the next claim");
      await onPeer.waitFor(runnable, "the left row's notice");
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
    assert.deepEqual(
      (await claimRows(peer, claimOf(task, T0 + 20))).map((c) => c.execution.id),
      [id],
    );
  } finally {
    onPeer.unsubscribe();
  }
});
