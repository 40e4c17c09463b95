/**
 * Probe for decision 039 (not part of the benchmark tables): the time of one `pick_due()` call that picks
 * 50 concurrency-limited rows (the benchmark's "keyed" shape: 100 keys, a limit of 1000 that never binds)
 * from 5,000 due ones, each call in a transaction rolled back so every call finds the same rows.
 *
 *   ZART_ROOT=<compiled tree> npx tsx src/probe-pg-pick-limited.ts [calls, default 300] [rounds, default 3]
 *   PROBE_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), schema zbench_pick_limited.
 *   PROBE_PARKED=other|same: one row of another task, or of the picked task, waits for a slot (decision 050).
 *
 * ZART_ROOT is a tree compiled by compile-tree.ts (default: this repository's dist/), so two checkouts'
 * schemas can be timed alternately.
 */
import { join, resolve } from "node:path";
import pg from "pg";

const root = process.env.ZART_ROOT ? join(resolve(process.env.ZART_ROOT), "src") : join(import.meta.dirname, "../../dist");
const { openStore } = await import(join(root, "store/open-store.js"));
const [callsArg = "300", roundsArg = "3"] = process.argv.slice(2);
const calls = Number(callsArg);
const url = process.env.PROBE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SCHEMA = "zbench_pick_limited";
const ROWS = 5000;
const PICK = 50;

const client = new pg.Client(url);
await client.connect();
await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
const store = await openStore(url, { schema: SCHEMA });
await store.migrate();
await store.close();
const now = Date.now();
await client.query(
  `INSERT INTO ${SCHEMA}.executions (id, task, status, data, created_at, updated_at, runnable_at, concurrency_key, concurrency_limit)
   SELECT 'e' || lpad(g::text, 8, '0'), 't', 'pending', '{}', $1::bigint + g, $1::bigint + g, $1::bigint + g, 'k' || (g % 100), 1000
   FROM generate_series(1, ${ROWS}) g`,
  [now - 100_000],
);
const parked = process.env.PROBE_PARKED;
if (parked === "other" || parked === "same") {
  // One row waits for a slot, as when some group's limit binds (decision 050): of another task, or of the
  // claim's own task (in a group of its own), when the claim's rows ask whether an older row of their group
  // waits ahead of them.
  await client.query(
    `INSERT INTO ${SCHEMA}.executions (id, task, status, data, created_at, updated_at, runnable_at, concurrency_key, concurrency_limit)
     VALUES ('parked', $2, 'pending', '{}', $1::bigint, $1::bigint, NULL, 'parked', 1)`,
    [now - 200_000, parked === "same" ? "t" : "other"],
  );
}
await client.query(`ANALYZE ${SCHEMA}.executions`);
const pick = {
  name: "pick_limited",
  text: `SELECT count(*)::int AS n FROM ${SCHEMA}.pick_due($1::bigint, '{t}'::text[], ${PICK}, '{}'::text[], NULL)`,
  values: [now],
};
for (let round = 1; round <= Number(roundsArg); round++) {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    await client.query("BEGIN");
    const started = performance.now();
    const { rows } = await client.query<{ n: number }>(pick);
    times.push(performance.now() - started);
    if (rows[0]?.n !== PICK) throw new Error(`pick_due returned ${rows[0]?.n} rows, not ${PICK}`);
    await client.query("ROLLBACK");
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ root, round, calls, p50Ms: +(times[Math.floor(calls / 2)] ?? 0).toFixed(3) }));
}
await client.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
await client.end();
