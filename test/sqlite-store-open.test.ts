/**
 * Opening a SQLite database that cannot be used. A file that a newer release migrated (its ledger records a
 * version this release does not have) is refused: `migrate()` throws `schema_too_new` and changes nothing,
 * and `zart-server` exits 1 naming the versions, without listening. A process that does not migrate refuses a
 * file without this release's schema. A path that cannot be opened fails with an error naming it.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { SchemaNotMigratedError, SchemaTooNewError } from "../src/store/migration-files.js";
import { openStore } from "../src/store/open-store.js";
import { migrations } from "../src/store/sqlite/migration-runner.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { childEnv, runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { migrationLedger } from "./support/sqlite-file.js";

const dir = mkdtempSync(join(tmpdir(), "zart-sqlite-version-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const latest = Math.max(...migrations.map((m) => m.version));

/** A file migrated by this release, then by an imaginary next one that added a table. */
async function fileFromNewerRelease(name: string): Promise<string> {
  const path = join(dir, name);
  const store = await SqliteStore.open({ path });
  await store.migrate();
  await store.close();
  const db = new Database(path);
  db.exec("CREATE TABLE future_things (id INTEGER PRIMARY KEY)");
  db.prepare("INSERT INTO zart_migrations (version, name) VALUES (?, ?)").run(latest + 1, "future-things");
  db.close();
  return path;
}

test("migrate() refuses a file migrated by a newer release and leaves it as it was", async () => {
  const path = await fileFromNewerRelease("newer.db");
  const before = migrationLedger(path);
  const store = await SqliteStore.open({ path });
  try {
    await assert.rejects(store.migrate(), (error: unknown) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.equal(error.code, "schema_too_new");
      assert.equal(error.databaseVersion, latest + 1);
      assert.equal(error.knownVersion, latest);
      assert.match(error.message, new RegExp(`${path.replaceAll("/", "\\/")} is at schema version ${latest + 1}`));
      return true;
    });
  } finally {
    await store.close();
  }
  assert.deepEqual(migrationLedger(path), before);
});

test("zart-server on a file migrated by a newer release exits 1 with the reason and never listens", { timeout: 60_000 }, async () => {
  const path = await fileFromNewerRelease("newer-cli.db");
  const run = await runToEnd(process.execPath, [...cliArgs("zart-server"), "--port", "0", "--database", path, "--log-level", "silent"], {
    env: childEnv(),
    timeoutMs: 50_000,
  });
  assert.equal(run.code, 1, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
  assert.doesNotMatch(run.stdout, /listening/);
  assert.match(
    run.stderr,
    new RegExp(`failed to start: SQLite file .* is at schema version ${latest + 1}, but this Zart release knows versions up to ${latest}`),
  );
  assert.equal(migrationLedger(path).length, migrations.length + 1);
});

test("a path that cannot be opened fails with an error that names it and keeps SQLite's code", async () => {
  const notDatabase = join(dir, "notes.db");
  writeFileSync(notDatabase, "not a database, only text long enough to fill SQLite's header and then some more");
  const directory = join(dir, "a-directory.db");
  mkdirSync(directory);
  const cases: [string, RegExp, string | undefined][] = [
    [notDatabase, /file is not a database/, "SQLITE_NOTADB"],
    [directory, /unable to open database file/, "SQLITE_CANTOPEN"],
    [join(dir, "missing", "zart.db"), /directory does not exist/, undefined],
  ];
  for (const [path, reason, code] of cases) {
    await assert.rejects(openStore(path), (error: Error & { code?: string }) => {
      assert.ok(error.message.startsWith(`Cannot open the SQLite database ${path}: `), error.message);
      assert.match(error.message, reason);
      assert.equal(error.code, code);
      return true;
    });
  }
});

test("a process that does not migrate refuses a file without this release's schema (schema_not_migrated), and one from a newer release", async () => {
  const task = defineTask({ name: "noop", run: () => null });
  const path = join(dir, "unmigrated.db");
  const store = await SqliteStore.open({ path });
  try {
    await assert.rejects(Engine.start({ store, tasks: [task], migrate: false }), (error: unknown) => {
      assert.ok(error instanceof SchemaNotMigratedError, String(error));
      assert.deepEqual([error.code, error.databaseVersion, error.knownVersion], ["schema_not_migrated", 0, latest]);
      assert.match(error.message, /unmigrated\.db is at schema version 0, and this Zart release needs version \d+: migrate it first/);
      return true;
    });
    await store.migrate();
    const engine = await Engine.start({ store, tasks: [task], migrate: false, worker: false });
    await engine.stop();
  } finally {
    await store.close();
  }
  const newer = await SqliteStore.open({ path: await fileFromNewerRelease("newer-no-migrate.db") });
  try {
    await assert.rejects(newer.checkSchema(), { code: "schema_too_new" });
  } finally {
    await newer.close();
  }
});

test("a file deleted or replaced while open makes the store not ready (store_unavailable), naming it", async () => {
  for (const how of ["deleted", "replaced"] as const) {
    const path = join(dir, `${how}.db`);
    const store = await SqliteStore.open({ path });
    try {
      await store.migrate();
      await store.ping();
      for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
      if (how === "replaced") await (await SqliteStore.open({ path })).close();
      await assert.rejects(store.ping(), (error: Error & { code?: string }) => {
        assert.equal(error.code, "store_unavailable");
        assert.equal(error.message, `The SQLite file ${path} was ${how} while this process had it open: restart the process`);
        return true;
      });
    } finally {
      await store.close();
    }
  }
});
