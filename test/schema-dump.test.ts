/**
 * The committed SQLite schema dump (schema/sqlite.sql) is what the migrations build on a fresh file, so
 * every schema change shows in review. The PostgreSQL half is test/pg-schema-dump.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { dumpFreshSqlite } from "../scripts/schema-dump.js";
import { assertMatchesCommitted, lineDiff } from "./support/committed-schema.js";

test("schema/sqlite.sql matches the schema the migrations build", async () => {
  assertMatchesCommitted("sqlite", await dumpFreshSqlite());
});

test("the dump lists every table the migrations create, by type then name", async () => {
  const dump = await dumpFreshSqlite();
  const tables = [...dump.matchAll(/^-- table (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(tables, [...tables].sort());
  for (const table of ["executions", "steps", "step_attempts", "events", "tasks", "workers", "schedules", "zart_migrations"]) {
    assert.ok(tables.includes(table), `table ${table} missing from the dump`);
  }
});

test("a differing schema fails with the changed lines and the regenerate command", () => {
  assert.throws(
    () => assertMatchesCommitted("sqlite", "-- not the schema\n"),
    (error: Error) => error.message.includes("+ -- not the schema") && error.message.includes("npm run schema:dump"),
  );
  assert.equal(lineDiff("a\nb\nc\nd\ne\nf\ng\nh\ni", "a\nb\nc\nd\nE\nf\ng\nh\ni", 1), "@@ built line 4 @@\n  d\n- e\n+ E\n  f");
});
