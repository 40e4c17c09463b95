/**
 * PostgresStore: the shared store behaviour suite, plus what only a shared database has - many instances
 * (each with its own pool) claiming and migrating at once, cross-process notices over LISTEN/NOTIFY, and
 * recovery when the server terminates the listener's or the pool's connections.
 *
 * Long because the scenarios share one database server and each needs its own instances and
 * connections; the shared suite itself lives in test/support/store-behaviour-*.ts.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import pg from "pg";
import { describeUrl, typeParsers } from "../src/store/postgres/connection.js";
import { createExecutions, insertExecution } from "../src/store/postgres/create.js";
import { migrations } from "../src/store/postgres/migration-runner.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import type { Checkpoint, NewExecution, Notice, Store } from "../src/store/store.js";
import { adminQuery, markPostgresRan, openTestStore, TestSchema, testDatabaseUrl } from "./support/postgres.js";
import { runStoreBehaviourSuite } from "./support/store-behaviour.js";
import { checkpoint, claimRows, createRunning, LEASE_MS, NoticeRecorder, newId, type PeerOptions, T0 } from "./support/store-fixtures.js";

const suiteSchema = new TestSchema("t_suite");
async function openSuiteStore(options?: PeerOptions): Promise<Store> {
  const store = await openTestStore(suiteSchema.name, options);
  markPostgresRan();
  return store;
}
runStoreBehaviourSuite("postgres", {
  open: () => openSuiteStore(),
  openPeer: openSuiteStore,
  reset: () => suiteSchema.truncate(),
  countMismatches: () => suiteSchema.countMismatches(),
  leftovers: (ids) => suiteSchema.leftovers(ids),
});
after(() => suiteSchema.drop());

/**
 * The same suite with every checkpoint through the batch statement (a lone checkpoint normally takes the
 * single-row statement): each write goes with a folded claim for a task no row has.
 */
function throughBatchStatement(store: Store): Store {
  const none = { workerId: "none", tasks: ["no-such-task"], limit: 1, leaseMs: 1 };
  return Object.assign(Object.create(store) as Store, {
    async applyCheckpoints(batch: readonly Checkpoint[]): Promise<boolean[]> {
      const now = batch[0]?.now ?? 0;
      return (await store.applyAndClaim(batch, { ...none, now })).results;
    },
  });
}
const setSchema = new TestSchema("t_set");
async function openSetStore(options?: PeerOptions): Promise<Store> {
  const store = throughBatchStatement(await openTestStore(setSchema.name, options));
  markPostgresRan();
  return store;
}
runStoreBehaviourSuite("postgres, batch statement", {
  open: () => openSetStore(),
  openPeer: openSetStore,
  reset: () => setSchema.truncate(),
  countMismatches: () => setSchema.countMismatches(),
  leftovers: (ids) => setSchema.leftovers(ids),
});
after(() => setSchema.drop());

describe("postgres only", () => {
  const schema = new TestSchema();
  const opened: Store[] = [];
  // No periodic compaction in this schema, so the counts test decides when deltas are folded.
  const open = async (options: { watchLingerMs?: number } = {}): Promise<PostgresStore> => {
    const store = await schema.open({ compactEveryMs: 3_600_000, ...options });
    opened.push(store);
    return store;
  };
  after(async () => {
    for (const store of opened) await store.close();
    await schema.drop();
  });

  test("connect: description has host, port, database and schema but no password; bad schema names are refused", async () => {
    const store = await open();
    assert.match(store.description, new RegExp(`^[^@/]+:\\d+/[^ ]+ \\(${schema.name}\\)$`));
    const url = new URL(testDatabaseUrl());
    assert.equal(store.description, `${url.hostname}:${url.port || "5432"}${url.pathname} (${schema.name})`);
    assert.equal(describeUrl("postgres://zart:s3cret-pw@db.example:6543/app?sslmode=require", "zart"), "db.example:6543/app (zart)");
    assert.equal(store.kind, "postgres");
    for (const bad of ["", "1abc", 'a"; DROP SCHEMA public; --', "x".repeat(64), "a-b"]) {
      await assert.rejects(PostgresStore.connect({ url: testDatabaseUrl(), schema: bad }), /schema name/);
    }
  });

  test("eager creations made together share one transaction per creation transition, with the queued ones", async () => {
    const store = await open();
    const base = { task: `together-${newId()}`, dataJson: "{}", idempotencyKey: null, now: T0 };
    const claimFor = { workerId: "w", leaseMs: LEASE_MS };
    const finished = { transition: "complete" as const, outputJson: "1", at: T0 + 1, stepsCompleted: 0 };
    const inputs: NewExecution[] = [
      ...[1, 2, 3].map(() => ({ ...base, id: newId() })),
      ...[1, 2, 3].map(() => ({ ...base, id: newId(), claimFor })),
      ...[1, 2, 3].map(() => ({ ...base, id: newId(), claimFor, finished })),
    ];
    await Promise.all(inputs.map((input) => store.createExecution(input)));
    // A row's xmin is the transaction that inserted it.
    const rows = await adminQuery<{ status: string; transactions: string; n: string }>(
      `SELECT status, count(DISTINCT xmin::text) AS transactions, count(*) AS n FROM ${schema.name}.executions
        WHERE task = $1 GROUP BY status ORDER BY status`,
      [base.task],
    );
    assert.deepEqual(
      rows.map((r) => [r.status, Number(r.transactions), Number(r.n)]),
      [
        ["completed", 1, 3],
        ["pending", 1, 3],
        ["running", 1, 3],
      ],
    );
  });

  test("claim: 8 instances with separate pools take each of 400 rows exactly once", async () => {
    const task = `bulk-${newId()}`;
    const seeder = await open();
    for (let i = 0; i < 400; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          seeder.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 + i + j }),
        ),
      );
    }
    const claimers = await Promise.all(Array.from({ length: 8 }, () => open()));
    const takes = await Promise.all(
      claimers.map(async (store, n) => {
        const ids: string[] = [];
        for (;;) {
          const batch = await claimRows(store, { workerId: `w${n}`, tasks: [task], limit: 7, now: T0 + 1000, leaseMs: LEASE_MS });
          if (batch.length === 0) return ids;
          for (const c of batch) {
            assert.equal(c.execution.leaseOwner, `w${n}`);
            ids.push(c.execution.id);
          }
        }
      }),
    );
    const all = takes.flat();
    assert.equal(all.length, 400, "every row claimed");
    assert.equal(new Set(all).size, 400, "no row claimed twice");
    assert.ok(takes.filter((ids) => ids.length > 0).length >= 2, "claims were spread over several instances");
    const counts = await seeder.countByStatus();
    assert.ok(counts.running >= 400);
  });

  test("migrate: 5 instances migrating a fresh schema at once all succeed, once", async () => {
    const fresh = new TestSchema("t_mig");
    const stores = await Promise.all(Array.from({ length: 5 }, () => openTestStore(fresh.name)));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const versions = await adminQuery<{ version: number }>(`SELECT version FROM ${fresh.name}.migrations ORDER BY version`);
      assert.deepEqual(
        versions.map((v) => v.version),
        migrations.map((m) => m.version),
      );
      const created = await stores[3]!.createExecution({ id: newId(), task: "m", dataJson: "{}", idempotencyKey: null, now: T0 });
      assert.equal((await stores[1]!.getExecution(created.execution.id))?.id, created.execution.id);
      await stores[0]!.migrate();
    } finally {
      for (const s of stores) await s.close();
      await fresh.drop();
    }
  });

  test("notices: a commit on instance A reaches instance B's subscribers through LISTEN/NOTIFY", async () => {
    const a = await open();
    const b = await open({ watchLingerMs: 0 });
    const onB = new NoticeRecorder(b);
    const onA = new NoticeRecorder(a);
    // B waits for ends (as a long-poll would), so A publishes its terminal notices.
    const unwatch = await b.watchTerminals();
    try {
      const task = `cross-${newId()}`;
      const created = await a.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 + 5 });
      await onB.waitFor(same({ kind: "runnable", task, at: T0 + 5 }), "runnable from A");
      const running = await createRunning(a, { task: `${task}-2` });
      await a.applyCheckpoints([checkpoint(running.fence, { transition: "complete", outputJson: '"done"', stepsCompleted: 0 })]);
      await onB.waitFor(same({ kind: "terminal", executionId: running.execution.id, status: "completed" }), "terminal from A");
      await a.cancelExecution(created.execution.id, T0 + 6);
      await onB.waitFor(same({ kind: "terminal", executionId: created.execution.id, status: "cancelled" }), "cancel from A");
      // Each listener gets notifications in commit order: once B's later marker reached A over LISTEN, A's
      // own earlier NOTIFYs have been through A's listener too, and were dropped as echoes of local notices.
      const marker = `marker-${newId()}`;
      await b.createExecution({ id: newId(), task: marker, dataJson: "{}", idempotencyKey: null, now: T0 });
      await onA.waitFor((n) => n.kind === "runnable" && n.task === marker, "B's marker on A");
      assert.equal(onA.notices.filter(same({ kind: "runnable", task, at: T0 + 5 })).length, 1, "A hears its own write once");
      assert.equal(onA.notices.filter(same({ kind: "terminal", executionId: created.execution.id, status: "cancelled" })).length, 1);
    } finally {
      await unwatch();
      onA.unsubscribe();
      onB.unsubscribe();
    }
  });

  test("terminal notices: a worker's ends reach other instances only while one of them watches ends", async () => {
    const a = await open();
    const b = await open({ watchLingerMs: 0 });
    const onA = new NoticeRecorder(a);
    const onB = new NoticeRecorder(b);
    const task = `watched-${newId()}`;
    // Notifications reach a listener in commit order: once B hears a marker created after a write, it has
    // heard whatever that write published.
    const heardUpTo = async (label: string) => {
      const marker = `marker-${newId()}`;
      await a.createExecution({ id: newId(), task: marker, dataJson: "{}", idempotencyKey: null, now: T0 });
      await onB.waitFor((n) => n.kind === "runnable" && n.task === marker, label);
    };
    const complete = async (store: Store, how: "alone" | "batch" | "born together") => {
      if (how === "born together") {
        // An eager start's run that ended before its row was written, inserted with another: the shared
        // insert's statement ends rows too.
        const finished = { transition: "complete" as const, outputJson: '"done"', at: T0, stepsCompleted: 0 };
        const born = [0, 1].map(() => ({
          id: newId(),
          task,
          dataJson: "{}",
          idempotencyKey: null,
          now: T0,
          claimFor: { workerId: "w", leaseMs: LEASE_MS },
          finished,
        }));
        await Promise.all(born.map((input) => store.createExecution(input)));
        return born[0]!.id;
      }
      const running = await createRunning(store, { task });
      const write = checkpoint(running.fence, { transition: "complete", outputJson: '"done"', stepsCompleted: 0 });
      if (how === "alone") await store.applyCheckpoints([write]);
      else {
        const other = await createRunning(store, { task });
        await store.applyCheckpoints([write, checkpoint(other.fence, { transition: "progress", currentStep: "s", stepsCompleted: 0 })]);
      }
      return running.execution.id;
    };
    const endOf = (id: string) => same({ kind: "terminal", executionId: id, status: "completed" });
    try {
      const unseen = [await complete(a, "alone"), await complete(a, "batch"), await complete(a, "born together")];
      await heardUpTo("marker after the unwatched ends");
      for (const id of unseen) {
        assert.equal(onB.notices.filter(endOf(id)).length, 0, "nobody watched: the end stayed in A");
        assert.equal(onA.notices.filter(endOf(id)).length, 1, "A's own subscribers still hear it");
      }
      const unwatch = await b.watchTerminals();
      const seen = [await complete(a, "alone"), await complete(a, "batch"), await complete(a, "born together")];
      for (const id of seen) await onB.waitFor(endOf(id), "an end while B watches");
      await unwatch();
      const after = await complete(a, "alone");
      await heardUpTo("marker after B stopped watching");
      assert.equal(onB.notices.filter(endOf(after)).length, 0, "B stopped watching (no linger): the end stayed in A");
    } finally {
      onA.unsubscribe();
      onB.unsubscribe();
    }
  });

  test("terminal notices: the watch outlives its last holder by the linger, and is taken again when the LISTEN connection comes back", async () => {
    const a = await open();
    const c = await open();
    const onC = new NoticeRecorder(c);
    const end = async (label: string) => {
      const running = await createRunning(a, { task: `linger-${newId()}` });
      await a.applyCheckpoints([checkpoint(running.fence, { transition: "complete", outputJson: '"done"', stepsCompleted: 0 })]);
      await onC.waitFor(same({ kind: "terminal", executionId: running.execution.id, status: "completed" }), label);
    };
    try {
      // Released at once, but the default linger (10 s) keeps announcing that C waits.
      const released = await c.watchTerminals();
      await released();
      await end("an end just after C's last waiter left");
      const unwatch = await c.watchTerminals();
      try {
        assert.ok((await schema.terminate("listener")) >= 1, "a listener connection was terminated");
        await onC.waitFor((n) => n.kind === "reconnected", "C reconnected", 15_000);
        await end("an end after C's LISTEN connection came back");
      } finally {
        await unwatch();
      }
    } finally {
      onC.unsubscribe();
    }
  });

  test("listener: survives pg_terminate_backend, reports reconnected, and hears later notices", async () => {
    const watcher = await open();
    const writer = await open();
    const seen = new NoticeRecorder(watcher);
    try {
      assert.ok((await schema.terminate("listener")) >= 1, "a listener connection was terminated");
      await seen.waitFor((n) => n.kind === "reconnected", "reconnected after the kill", 15_000);
      const task = `after-kill-${newId()}`;
      await writer.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 });
      await seen.waitFor(same({ kind: "runnable", task, at: T0 }), "a notice after reconnecting");
    } finally {
      seen.unsubscribe();
    }
  });

  test("pool: queries succeed after the server terminated every pooled connection", async () => {
    const store = await open();
    const made = await store.createExecution({ id: newId(), task: "pool", dataJson: '{"x": [1, 2]}', idempotencyKey: null, now: T0 });
    // Four concurrent reads leave four idle connections (the test pool's size) for the server to kill.
    await Promise.all([store.ping(), store.countByStatus(), store.getExecution(made.execution.id), store.getStatuses([made.execution.id])]);
    assert.ok((await schema.terminate("pool")) >= 1, "pooled connections were terminated");
    const again = await store.getExecution(made.execution.id);
    assert.equal(again?.dataJson, '{"x": [1, 2]}', "user JSON comes back as the exact text");
    await store.ping();
    const later = await store.createExecution({ id: newId(), task: "pool", dataJson: "{}", idempotencyKey: null, now: T0 });
    assert.equal(later.created, true);
  });

  test("counts: compaction folds the deltas without changing any count, one compactor at a time", async () => {
    const store = await open();
    const task = `count-${newId()}`;
    const { fence } = await createRunning(store, { task });
    await createRunning(store, { task: `${task}-b` });
    await store.createExecution({ id: newId(), task, dataJson: "{}", idempotencyKey: null, now: T0 });
    await store.applyCheckpoints([checkpoint(fence, { transition: "fail", error: { message: "x", step: null }, stepsCompleted: 0 })]);
    const before = await store.countByStatus();
    const listed = await store.listExecutions({ task, limit: 10, offset: 0, order: "asc" });
    assert.equal(listed.total, 2);
    const folded = await Promise.all([store.compactCounts(), store.compactCounts(), store.compactCounts()]);
    assert.ok(
      folded.some((n) => n > 0),
      "one compaction folded the deltas",
    );
    const [{ n: left } = { n: -1 }] = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema.name}.count_deltas`);
    assert.equal(left, 0, "no deltas left after compaction");
    assert.deepEqual(await store.countByStatus(), before);
    assert.equal((await store.listExecutions({ task, status: "failed", limit: 1, offset: 0, order: "desc" })).total, 1);
    assert.equal((await store.listExecutions({ task, limit: 1, offset: 0, order: "desc" })).total, 2);
  });

  test("createExecution: a retry after an unseen commit recognises its own row; a real id clash still fails", async () => {
    const store = await open();
    const pool = new pg.Pool({ connectionString: testDatabaseUrl(), types: typeParsers, max: 1 });
    try {
      const ctx = { pool, s: `"${schema.name}"` };
      const plain = { id: newId(), task: "retry", dataJson: "{}", idempotencyKey: null, now: T0 };
      const create = async (input: NewExecution, isRetry = false) => {
        const notices: Notice[] = [];
        const result = await insertExecution(ctx, pool, input, notices, isRetry);
        return { result, notices };
      };
      await store.createExecution(plain);
      await assert.rejects(create(plain), /duplicate key/, "outside a retry an id clash is a bug to surface");
      const again = await create(plain, true);
      assert.deepEqual([again.result.created, again.result.execution.id, again.notices.length], [true, plain.id, 1]);
      const keyed = { ...plain, id: newId(), idempotencyKey: `k-${newId()}` };
      await store.createExecution(keyed);
      assert.equal((await create(keyed, true)).result.created, true, "our own row holds the key");
      const other = await create({ ...keyed, id: newId() }, true);
      assert.deepEqual([other.result.created, other.result.execution.id], [false, keyed.id]);
    } finally {
      await pool.end();
    }
  });

  test("createExecutions: a retry after an unseen commit recognises its own rows; a real id clash still fails", async () => {
    const store = await open();
    const pool = new pg.Pool({ connectionString: testDatabaseUrl(), types: typeParsers, max: 1 });
    try {
      const ctx = { pool, s: `"${schema.name}"` };
      const key = `k-${newId()}`;
      const batch = [
        { id: newId(), task: "retry-many", dataJson: "{}", idempotencyKey: null, now: T0 },
        { id: newId(), task: "retry-many", dataJson: "{}", idempotencyKey: key, now: T0 },
      ];
      await store.createExecutions(batch);
      await assert.rejects(createExecutions(ctx, batch), /duplicate key/, "outside a retry an id clash is a bug to surface");
      const again = await createExecutions(ctx, batch, true);
      assert.deepEqual(
        again.result.map((r) => [r.created, r.execution.id]),
        batch.map((b) => [true, b.id]),
        "the first attempt's rows count as created",
      );
      const other = await createExecutions(ctx, [{ ...batch[1]!, id: newId() }], true);
      assert.deepEqual(
        other.result.map((r) => [r.created, r.execution.id]),
        [[false, batch[1]?.id]],
      );
    } finally {
      await pool.end();
    }
  });

  test("applyCheckpoints: two checkpoints of one execution in one batch apply in order", async () => {
    const store = await open();
    const { execution, fence } = await createRunning(store, { task: `order-${newId()}` });
    const results = await store.applyCheckpoints([
      checkpoint(fence, { transition: "progress", currentStep: "a", stepsCompleted: 1 }),
      checkpoint(fence, { transition: "complete", outputJson: '{"z": "é"}', stepsCompleted: 2 }),
      checkpoint(fence, { transition: "progress", currentStep: "late", stepsCompleted: 3 }),
    ]);
    assert.deepEqual(results, [true, true, false], "a write after completion in the same batch is fenced out");
    const row = await store.getExecution(execution.id);
    assert.equal(row?.status, "completed");
    assert.equal(row?.outputJson, '{"z": "é"}');
    assert.equal(row?.stepsCompleted, 2);
  });
});

function same(expected: Notice): (n: Notice) => boolean {
  return (n) => JSON.stringify(n) === JSON.stringify(expected);
}
