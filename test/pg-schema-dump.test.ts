/**
 * The committed PostgreSQL schema dump (schema/postgres.sql) is what the migrations build in a fresh
 * schema, read from the catalogs, so every schema change shows in review.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { dumpPostgres } from "../scripts/schema-dump.js";
import { assertMatchesCommitted } from "./support/committed-schema.js";
import { TestSchema, testDatabaseUrl } from "./support/postgres.js";

const schema = new TestSchema("dump");
after(() => schema.drop());

test("schema/postgres.sql matches the schema the migrations build", async () => {
  const store = await schema.open();
  await store.close();
  const dump = await dumpPostgres(testDatabaseUrl(), schema.name);
  assert.ok(!dump.includes(schema.name), "the dump names the schema it was read from");
  assertMatchesCommitted("postgres", dump);
});
