/**
 * Probe behind docs/decisions/005-list-page-function.md (not part of the benchmark tables): fills a fresh
 * database with N completed executions and 1,000 pending ones (the benchmark's scale fill, bench/src/scale.ts),
 * then times the store's read paths one call at a time over the wire, and compares the status-less list page
 * by `list_page()` (planned once per session) with the same query as a prepared statement with parameters
 * (which PostgreSQL plans anew on each call while its custom plans look cheaper than the generic one).
 * Prints one JSON line per case (median and p90 ms over the calls), plus the planning and execution times
 * EXPLAIN ANALYZE reports for the prepared form and the plan's top node of each store read.
 *
 *   npx tsx src/probe-read-plans.ts [N, default 1000000] [calls per case, default 200]
 */
import pg from "pg";
import { openStore } from "../../dist/store/open-store.js";
import type { Store } from "../../dist/store/store.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";
import { fill } from "./scale.js";

const [n = "1000000", c = "200"] = process.argv.slice(2);
const stored = Number(n);
const calls = Number(c);
const DB = probeDatabase("zbench_probe_reads");

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const url = urlForDatabase(adminUrl(), DB);
const store: Store = await openStore(url, { schema: "zart" });
await store.migrate();
const filled = performance.now();
await fill({ kind: "postgres", url, database: DB }, { completed: stored, pending: 1000, pendingTask: "bench-w0" });
console.log(JSON.stringify({ stored, pending: 1000, fillSeconds: +((performance.now() - filled) / 1000).toFixed(1) }));

const db = new pg.Client(url);
await db.connect();
const idOf = (k: number) => `exec-c${String(k).padStart(12, "0")}`;
const random = () => 1 + Math.floor(Math.random() * stored);

async function time(name: string, op: () => Promise<unknown>): Promise<void> {
  for (let k = 0; k < 10; k++) await op();
  const xs: number[] = [];
  for (let k = 0; k < calls; k++) {
    const started = performance.now();
    await op();
    xs.push(performance.now() - started);
  }
  xs.sort((a, b) => a - b);
  const at = (q: number) => +(xs[Math.floor(xs.length * q)] ?? Number.NaN).toFixed(3);
  console.log(JSON.stringify({ case: name, calls, p50Ms: at(0.5), p90Ms: at(0.9) }));
}

// The store's reads, as the API calls them.
await time("getExecution (primary key)", () => store.getExecution(idOf(random())));
await time("getStatuses (100 ids)", () => store.getStatuses(Array.from({ length: 100 }, () => idOf(random()))));
await time("list, no filter, desc, first page of 50 (list_page)", () => store.listExecutions({ limit: 50, offset: 0, order: "desc" }));
await time("list, no filter, desc, offset 1000 (list_page)", () => store.listExecutions({ limit: 50, offset: 1000, order: "desc" }));
await time("list, status=completed, desc, first page of 50", () =>
  store.listExecutions({ status: "completed", limit: 50, offset: 0, order: "desc" }),
);
await time("list, status=completed, desc, offset 1000", () =>
  store.listExecutions({ status: "completed", limit: 50, offset: 1000, order: "desc" }),
);
await time("list, task + status=pending, asc, first page of 50", () =>
  store.listExecutions({ task: "bench-w0", status: "pending", limit: 50, offset: 0, order: "asc" }),
);
await time("countByStatus", () => store.countByStatus());

// The status-less page: list_page() against the same query as a parameterised prepared statement.
const union = (dir: string) =>
  ["pending", "running", "waiting", "completed", "failed", "cancelled"]
    .map((s) => `(SELECT * FROM zart.executions WHERE status = '${s}' ORDER BY created_at ${dir}, id ${dir} LIMIT $1::bigint + $2::bigint)`)
    .join("\n UNION ALL ");
const preparedText = `SELECT * FROM (${union("DESC")}) page ORDER BY created_at DESC, id DESC LIMIT $1::bigint OFFSET $2::bigint`;
await time("no-filter page, desc, 50: list_page() function", () =>
  db.query({ name: "fn", text: "SELECT * FROM zart.list_page(NULL, $1, $2, true)", values: [50, 0] }),
);
await time("no-filter page, desc, 50: prepared statement", () => db.query({ name: "stmt", text: preparedText, values: [50, 0] }));

await db.query(`PREPARE explained(bigint, bigint) AS ${preparedText}`);
for (let k = 0; k < 10; k++) await db.query("EXECUTE explained(50, 0)");
const lines = (await db.query("EXPLAIN (ANALYZE, TIMING OFF) EXECUTE explained(50, 0)")).rows.map((r) => r["QUERY PLAN"] as string);
console.log(
  JSON.stringify({
    case: "EXPLAIN ANALYZE of the prepared statement after 10 calls",
    planning: lines.find((l) => l.startsWith("Planning Time")),
    execution: lines.find((l) => l.startsWith("Execution Time")),
  }),
);
const plan = async (sql: string, values: unknown[]) =>
  (await db.query(`EXPLAIN ${sql}`, values)).rows.map((r) => (r["QUERY PLAN"] as string).trim()).filter((l) => /Scan|Function/.test(l));
console.log(JSON.stringify({ plan: "getExecution", nodes: await plan("SELECT * FROM zart.executions WHERE id = $1", [idOf(1)]) }));
console.log(
  JSON.stringify({
    plan: "list, status=completed, desc",
    nodes: await plan("SELECT * FROM zart.executions WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 1000", [
      "completed",
    ]),
  }),
);

await db.end();
await store.close();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();
