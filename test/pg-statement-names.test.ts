/**
 * Prepared statements' names fit PostgreSQL's 63 bytes. The server cuts a longer name; node-postgres does
 * not, so two statements whose names were alike in their first 63 characters were two statements to the
 * client and one to the server: on a connection that had prepared the first, the second failed with 42P05
 * ("prepared statement … already exists"). The checkpoint batch with a claim and every worker transition
 * was one such pair, with and without attempts or consumed events (checkpoint-writer.ts), so a worker whose
 * busy connection met both had that flush fail.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import pg from "pg";
import { prepared, type SqlContext, statementName } from "../src/store/postgres/sql-context.js";
import { WORKER_TRANSITIONS } from "../src/store/postgres/statements.js";
import { markPostgresRan, testDatabaseUrl } from "./support/postgres.js";

/** The keys of the fused claim's batch statement with every transition, without and with extras. */
const ALL = `checkpoints_claim_${WORKER_TRANSITIONS.join("_")}`;
const keys = [ALL, `${ALL}_x`];

test("a statement's name is at most 63 characters, and the hash of its text survives whole", () => {
  const names = keys.map((key, i) => statementName(key, `SELECT ${i}`));
  for (const name of names) {
    assert.ok(name.length <= 63, `${name} has ${name.length} characters`);
    assert.match(name, /_[0-9a-f]{12}$/);
  }
  assert.notEqual(names[0], names[1]);
  assert.equal(statementName("get", "SELECT 1").length, "zart_get_".length + 12, "a short key is kept whole");
});

const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 1 });
after(() => pool.end());

test("statements whose keys are alike in their first 63 characters are both prepared on one connection", async () => {
  const ctx: SqlContext = { pool, s: '"unused"' };
  // One connection: the second statement is prepared where the first already is.
  const first = await pool.query(prepared(ctx, keys[0] as string, () => "SELECT 1 AS a", []));
  markPostgresRan();
  const second = await pool.query(prepared(ctx, keys[1] as string, () => "SELECT 2 AS b", []));
  assert.deepEqual(first.rows, [{ a: 1 }]);
  assert.deepEqual(second.rows, [{ b: 2 }]);
});
