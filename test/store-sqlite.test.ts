/**
 * SQLite store: the shared behaviour suite on a temp file, plus what only a file-based store must prove:
 * WAL mode, migrations racing from several instances and processes, claims shared by several processes,
 * and commits that survive `kill -9`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { EXECUTION_COLUMN_NAMES, EXECUTION_COLUMNS } from "../src/state/columns.js";
import { openStore } from "../src/store/open-store.js";
import { DUE_TIERS, NEXT_WAKE_PLAIN, NEXT_WAKE_PRIORITY } from "../src/store/sqlite/claim.js";
import { prepareRowStatement, rowFromValues } from "../src/store/sqlite/execution-rows.js";
import { migrations } from "../src/store/sqlite/migration-runner.js";
import { listSql, SELECT_STATUSES } from "../src/store/sqlite/queries.js";
import { SCHEDULE_QUERIES } from "../src/store/sqlite/schedules.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { tsArgs, WatchedProcess } from "./support/child-process.js";
import { migrationLedger } from "./support/sqlite-file.js";
import { runStoreBehaviourSuite } from "./support/store-behaviour.js";
import { create, T0 } from "./support/store-fixtures.js";

const childScript = fileURLToPath(new URL("./support/sqlite-child.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "zart-sqlite-test-"));
let fileCounter = 0;

function freshPath(): string {
  fileCounter += 1;
  return join(dir, `store-${fileCounter}.db`);
}

function removeDatabase(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

after(() => rmSync(dir, { recursive: true, force: true }));

let suitePath = freshPath();
runStoreBehaviourSuite("sqlite", {
  open: () => SqliteStore.open({ path: suitePath }),
  openPeer: (options) => SqliteStore.open({ path: suitePath, ...options }),
  reset: async () => {
    removeDatabase(suitePath);
    suitePath = freshPath();
  },
  countMismatches: async () => {
    const db = new Database(suitePath, { readonly: true, fileMustExist: true });
    try {
      const rows = db
        .prepare(
          `SELECT task, status, counted, stored FROM (
             SELECT c.task, c.status, c.n AS counted, (SELECT count(*) FROM executions e WHERE e.task = c.task AND e.status = c.status) AS stored
             FROM status_counts c
             UNION ALL
             SELECT e.task, e.status, 0, count(*) FROM executions e
             WHERE NOT EXISTS (SELECT 1 FROM status_counts c WHERE c.task = e.task AND c.status = e.status) GROUP BY e.task, e.status
           ) WHERE counted <> stored ORDER BY task, status`,
        )
        .all() as Array<{ task: string; status: string; counted: number; stored: number }>;
      return rows.map((r) => `${r.task}/${r.status}: counted ${r.counted}, stored ${r.stored}`);
    } finally {
      db.close();
    }
  },
  leftovers: async (ids) => {
    const db = new Database(suitePath, { readonly: true, fileMustExist: true });
    try {
      const tables = { executions: "id", steps: "execution_id", step_attempts: "execution_id", events: "execution_id" };
      return Object.entries(tables).flatMap(([table, column]) => {
        const { n } = db
          .prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} IN (SELECT value FROM json_each(?))`)
          .get(JSON.stringify(ids)) as {
          n: number;
        };
        return n > 0 ? [`${table}: ${n}`] : [];
      });
    } finally {
      db.close();
    }
  },
});

/** A process running test/support/sqlite-child.ts in one of its modes. */
function startChild(...args: string[]): WatchedProcess {
  return new WatchedProcess(`sqlite child (${args[0]})`, process.execPath, [...tsArgs(childScript), ...args], { stdin: "pipe" });
}

const exitCode = async (child: WatchedProcess) => (await child.exited).code;

const expectedLedger = migrations.map((m) => ({ version: m.version, name: m.name }));

describe("sqlite store: file-specific behaviour", () => {
  test("opens in WAL mode and describes itself by absolute path", async () => {
    const path = freshPath();
    const store = await SqliteStore.open({ path, sync: "full" });
    try {
      assert.equal(store.kind, "sqlite");
      assert.equal(store.description, path);
      const db = new Database(path, { readonly: true });
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      db.close();
    } finally {
      await store.close();
    }
  });

  test("the sync option of a database URL sets the connection's synchronous mode (normal by default, full on request)", async () => {
    // `synchronous` is per connection, so it is read from the store's own (private) connection.
    const mode = (store: unknown) => (store as { conn: { db: Database.Database } }).conn.db.pragma("synchronous", { simple: true });
    const dir = mkdtempSync(join(tmpdir(), "zart-sync-"));
    const stores = await Promise.all([
      openStore(join(dir, "a.db")),
      openStore(`sqlite:${join(dir, "b.db")}?sync=full`),
      openStore(`sqlite:${join(dir, "c.db")}?sync=normal`),
    ]);
    try {
      assert.deepEqual(stores.map(mode), [1, 2, 1], "NORMAL is 1, FULL is 2");
    } finally {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the store's connection keeps SQLite's temporary files (statement journals) in memory", async () => {
    // Per connection, like `synchronous`; a status change inside a batch otherwise writes a temporary file
    // (docs/decisions/026-sqlite-temp-store.md).
    const store = await SqliteStore.open({ path: freshPath() });
    try {
      const db = (store as unknown as { conn: { db: Database.Database } }).conn.db;
      assert.equal(db.pragma("temp_store", { simple: true }), 2, "MEMORY is 2 (FILE 1, DEFAULT 0)");
    } finally {
      await store.close();
    }
  });

  test("execution rows read as arrays: each value lands in its own column, and a statement returning other columns is refused", async () => {
    // The values are the column names themselves, so a value placed in the wrong column shows by name.
    const row = rowFromValues(EXECUTION_COLUMN_NAMES) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(row), EXECUTION_COLUMN_NAMES);
    for (const name of EXECUTION_COLUMN_NAMES) assert.equal(row[name], name);
    const store = await SqliteStore.open({ path: freshPath() });
    try {
      await store.migrate();
      const db = (store as unknown as { conn: { db: Database.Database } }).conn.db;
      assert.ok(prepareRowStatement(db, `SELECT ${EXECUTION_COLUMNS} FROM executions WHERE id = ?`));
      const reordered = EXECUTION_COLUMNS.replace("id, task", "task, id");
      assert.throws(() => prepareRowStatement(db, `SELECT ${reordered} FROM executions`), /EXECUTION_COLUMNS in order/);
      assert.throws(() => prepareRowStatement(db, "SELECT id, task FROM executions"), /EXECUTION_COLUMNS in order/);
    } finally {
      await store.close();
    }
  });

  test(":memory: opens a private database without WAL", async () => {
    const store = await SqliteStore.open({ path: ":memory:" });
    try {
      await store.migrate();
      assert.equal(store.description, ":memory:");
      await create(store);
      assert.equal((await store.countByStatus()).pending, 1);
    } finally {
      await store.close();
    }
  });

  test("migrate from several instances at once applies each migration once", async () => {
    const path = freshPath();
    const stores = await Promise.all(Array.from({ length: 4 }, () => SqliteStore.open({ path })));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      assert.deepEqual(migrationLedger(path), expectedLedger);
      await create(stores[3]!);
      assert.equal((await stores[0]!.countByStatus()).pending, 1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test("migrate from three processes at once", { timeout: 60_000 }, async () => {
    const path = freshPath();
    const children = Array.from({ length: 3 }, () => startChild("migrate", path));
    const codes = await Promise.all(children.map(exitCode));
    assert.deepEqual(codes, [0, 0, 0], children.flatMap((c) => c.stderr).join("\n"));
    for (const c of children) assert.deepEqual(c.lines, ["migrated"]);
    assert.deepEqual(migrationLedger(path), expectedLedger);
  });

  test("three processes claiming from one file take every execution exactly once", { timeout: 90_000 }, async () => {
    const path = freshPath();
    const store = await SqliteStore.open({ path });
    await store.migrate();
    const ids = new Set<string>();
    for (let i = 0; i < 300; i++) ids.add((await create(store, { task: "multi", now: T0 + i })).id);
    const children = ["p1", "p2", "p3"].map((name) => startChild("claim", path, name));
    // Start all claim loops together so the processes really contend for the write lock.
    await Promise.all(children.map((c) => c.waitForLine((line) => line === "ready", "ready", 30_000)));
    for (const c of children) c.child.stdin?.write("go\n");
    const codes = await Promise.all(children.map(exitCode));
    const stderr = children.flatMap((c) => c.stderr).join("\n");
    assert.deepEqual(codes, [0, 0, 0], stderr);
    assert.doesNotMatch(stderr, /SQLITE_BUSY|database is locked/);
    const claimed = children.flatMap((c) => c.lines.filter((l) => l.startsWith("claimed ")).map((l) => l.slice(8)));
    assert.equal(claimed.length, 300, "no execution claimed twice");
    assert.deepEqual(new Set(claimed), ids);
    assert.equal((await store.countByStatus()).completed, 300);
    await store.close();
  });

  test("every commit a killed writer reported survives kill -9", { timeout: 60_000 }, async () => {
    const path = freshPath();
    const setup = await SqliteStore.open({ path });
    await setup.migrate();
    await setup.close();
    const child = startChild("create", path);
    // Wait for a couple hundred acknowledged commits, then kill the writer mid-stream.
    await child.waitForLine((line) => line.startsWith("created "), "200 acknowledged commits", 30_000, 200);
    assert.deepEqual(await child.killHard(), { code: null, signal: "SIGKILL" });
    const reported = child.lines.filter((l) => l.startsWith("created ")).map((l) => l.slice(8));
    assert.ok(reported.length >= 200);
    const store = await SqliteStore.open({ path });
    try {
      const found = await store.getStatuses(reported);
      assert.equal(found.size, reported.length, "every reported id is stored");
      assert.equal((await store.countByStatus()).pending >= reported.length, true);
    } finally {
      await store.close();
    }
  });

  test("claim, next-wake, status, list and schedule queries are served by indexes", async () => {
    const path = freshPath();
    const store = await SqliteStore.open({ path });
    await store.migrate();
    await store.close();
    const db = new Database(path, { readonly: true });
    const plan = (sql: string, ...params: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(" | ");
    try {
      const [positive, plain, negative] = DUE_TIERS as [string, string, string];
      const due = { now: T0, tasks: '["a"]', lim: 10 };
      assert.match(plan(plain, due), /SEARCH executions USING (COVERING )?INDEX executions_due /);
      assert.match(plan(positive, due), /SEARCH executions USING (COVERING )?INDEX executions_due_priority/);
      assert.match(plan(negative, due), /SEARCH executions USING (COVERING )?INDEX executions_due_priority/);
      assert.match(plan(NEXT_WAKE_PLAIN, { tasks: '["a"]' }), /SEARCH executions USING (COVERING )?INDEX executions_due /);
      assert.match(
        plan(NEXT_WAKE_PRIORITY, { tasks: '["a"]' }),
        /(SEARCH|SCAN) executions USING (COVERING )?INDEX executions_due_priority/,
      );
      assert.match(plan(SELECT_STATUSES, '["a"]'), /SEARCH executions USING INDEX sqlite_autoindex_executions_1 \(id=\?\)/);
      // The scheduler reads these every poll: the partial index of next ticks, never a scan of schedules.
      assert.match(
        plan(SCHEDULE_QUERIES.DUE, T0, 10),
        /SEARCH schedules USING INDEX schedules_next_tick \(next_tick_at>\? AND next_tick_at<\?\)/,
      );
      assert.match(plan(SCHEDULE_QUERIES.NEXT_TICK), /SEARCH schedules USING COVERING INDEX schedules_next_tick/);
      const shapes = [
        [{}, /SCAN executions USING INDEX executions_created/],
        [{ status: "pending" as const }, /SEARCH executions USING INDEX executions_status_created \(status=\?\)/],
        [{ task: "t" }, /SEARCH executions USING INDEX executions_task_created \(task=\?\)/],
        [
          { task: "t", status: "failed" as const },
          /SEARCH executions USING INDEX executions_task_status_created \(task=\? AND status=\?\)/,
        ],
      ] as const;
      for (const [filter, expected] of shapes) {
        for (const order of ["asc", "desc"] as const) {
          const { page, total, params } = listSql({ ...filter, limit: 10, offset: 0, order });
          const detail = plan(page, ...params, 10, 0);
          assert.match(detail, expected, `${JSON.stringify(filter)} ${order}`);
          assert.doesNotMatch(detail, /TEMP B-TREE/, "no sort step: the index gives the order");
          assert.doesNotMatch(plan(total, ...params), /executions/, "totals come from status_counts");
        }
      }
    } finally {
      db.close();
    }
  });
});
