/**
 * A PostgreSQL schema that a newer release migrated (its ledger records a version this release does not
 * have) is refused with `schema_too_new` and left as it was: whether the newer version was there before this
 * process looked, or was recorded by a newer process while this one waited for the migration lock. A process
 * that does not migrate refuses a schema older than this release's with `schema_not_migrated`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { SchemaNotMigratedError, SchemaTooNewError } from "../src/store/migration-files.js";
import { MIGRATION_LOCK_CLASS, migrations } from "../src/store/postgres/migration-runner.js";
import { adminQuery, markPostgresRan, openTestStore, TestSchema, testDatabaseUrl } from "./support/postgres.js";

const latest = Math.max(...migrations.map((m) => m.version));

function isTooNew(schema: string) {
  return (error: unknown) => {
    assert.ok(error instanceof SchemaTooNewError, String(error));
    assert.equal(error.code, "schema_too_new");
    assert.equal(error.databaseVersion, latest + 1);
    assert.equal(error.knownVersion, latest);
    assert.match(error.message, new RegExp(`PostgreSQL schema "${schema}" is at schema version ${latest + 1}`));
    return true;
  };
}

async function ledger(schema: string): Promise<number[]> {
  const rows = await adminQuery<{ version: number }>(`SELECT version FROM ${schema}.migrations ORDER BY version`);
  return rows.map((r) => r.version);
}

test("migrate() refuses a schema migrated by a newer release and leaves it as it was", async () => {
  const schema = new TestSchema("t_ver");
  try {
    await (await schema.open()).close();
    await adminQuery(`INSERT INTO ${schema.name}.migrations (version, name) VALUES ($1, 'future-things')`, [latest + 1]);
    const store = await openTestStore(schema.name);
    try {
      await assert.rejects(store.migrate(), isTooNew(schema.name));
    } finally {
      await store.close();
    }
    assert.deepEqual(await ledger(schema.name), [...migrations.map((m) => m.version), latest + 1]);
  } finally {
    await schema.drop();
  }
});

test("migrate() refuses when a newer release migrated the schema while it waited for the lock", async () => {
  const schema = new TestSchema("t_ver");
  const newer = new pg.Client({ connectionString: testDatabaseUrl() });
  newer.on("error", () => {});
  await newer.connect();
  markPostgresRan();
  const store = await openTestStore(schema.name);
  try {
    // The "newer release" takes the migration lock first and records its versions under it.
    await newer.query("BEGIN");
    await newer.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, schema.name]);
    const migrating = store.migrate();
    const outcome = migrating.then(
      () => null,
      (error: unknown) => error,
    );
    // Wait until this store's migration is queued behind the lock (it saw an empty schema first).
    for (;;) {
      const waiting = await adminQuery<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::bigint::oid AND objid = hashtext($2)::oid",
        [MIGRATION_LOCK_CLASS, schema.name],
      );
      if ((waiting[0]?.n ?? 0) > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await newer.query(`CREATE SCHEMA ${schema.name}`);
    await newer.query(
      `CREATE TABLE ${schema.name}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const version of [...migrations.map((m) => m.version), latest + 1]) {
      await newer.query(`INSERT INTO ${schema.name}.migrations (version, name) VALUES ($1, $2)`, [version, `v${version}`]);
    }
    await newer.query("COMMIT");
    isTooNew(schema.name)(await outcome);
    assert.deepEqual(await ledger(schema.name), [...migrations.map((m) => m.version), latest + 1]);
    const tables = await adminQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1", [schema.name]);
    assert.equal(tables[0]?.n, 1, "nothing but the newer release's ledger was created");
  } finally {
    await newer.end();
    await store.close();
    await schema.drop();
  }
});

test("a process that does not migrate checks the schema: none yet, or an older one, is schema_not_migrated; the current one starts", async () => {
  const schema = new TestSchema("t_ver");
  markPostgresRan();
  const store = await openTestStore(schema.name);
  try {
    const notMigrated = (version: number) => (error: unknown) => {
      assert.ok(error instanceof SchemaNotMigratedError, String(error));
      assert.equal(error.code, "schema_not_migrated");
      assert.deepEqual([error.databaseVersion, error.knownVersion], [version, latest]);
      assert.match(error.message, /migrate it first \(`zart migrate`/);
      return true;
    };
    const task = defineTask({ name: "noop", run: () => null });
    await assert.rejects(Engine.start({ store, tasks: [task], migrate: false }), notMigrated(0));
    await store.migrate();
    await adminQuery(`DELETE FROM ${schema.name}.migrations WHERE version = $1`, [latest]);
    await assert.rejects(store.checkSchema(), notMigrated(latest - 1));
    await adminQuery(`INSERT INTO ${schema.name}.migrations (version, name) VALUES ($1, 'put-back')`, [latest]);
    const engine = await Engine.start({ store, tasks: [task], migrate: false, worker: false });
    await engine.stop();
  } finally {
    await store.close();
    await schema.drop();
  }
});
