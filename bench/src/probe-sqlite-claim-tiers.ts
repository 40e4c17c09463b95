/**
 * Probe behind docs/decisions/034-sqlite-claim-plain-tier.md (not part of the benchmark tables): what the
 * reads of one SQLite claim cost, with one due plain row and no row with a priority: each due tier alone,
 * the three tiers (a claim before the decision), and the priority check then the plain tier (a claim
 * after it). N calls per variant after 2,000 dropped, alternating rounds.
 *
 *   npx tsx src/probe-sqlite-claim-tiers.ts [N] [rounds]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openStore } from "../../dist/store/open-store.js";
import { DUE_TIERS } from "../../dist/store/sqlite/claim.js";

const [n = "20000", r = "3"] = process.argv.slice(2);
const N = Number(n);
const dir = mkdtempSync(join(tmpdir(), "zart-probe-tiers-"));
const path = join(dir, "zart.db");
const store = await openStore(path);
await store.migrate();
await store.createExecution({ id: "e1", task: "t", dataJson: "{}", idempotencyKey: null, now: 1 });
await store.close();
const db = new Database(path);
const [positive, plain, negative] = DUE_TIERS.map((sql) => db.prepare(sql)) as [Database.Statement, Database.Statement, Database.Statement];
// The same probe as claim.ts's ANY_PRIORITY.
const anyPriority = db.prepare(
  "SELECT EXISTS (SELECT 1 FROM executions INDEXED BY executions_due_priority WHERE runnable_at IS NOT NULL AND priority <> 0) AS found",
);
const params = { now: 100, tasks: JSON.stringify(["t", "u", "v", "w"]), lim: 10 };
if (plain.all(params).length !== 1 || positive.all(params).length !== 0) throw new Error("expected one due plain row");
const variants: Record<string, () => unknown> = {
  "positive tier (empty)": () => positive.all(params),
  "plain tier (one row)": () => plain.all(params),
  "negative tier (empty)": () => negative.all(params),
  "three tiers (before)": () => [positive.all(params), plain.all(params), negative.all(params)],
  "priority check, then plain tier (after)": () => ((anyPriority.get() as { found: number }).found ? null : plain.all(params)),
};
for (let round = 1; round <= Number(r); round++) {
  for (const [name, call] of Object.entries(variants)) {
    for (let i = 0; i < 2000; i++) call();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) call();
    console.log(`round ${round}  ${name.padEnd(42)} ${(((performance.now() - t0) * 1000) / N).toFixed(2)} µs per claim`);
  }
}
db.close();
rmSync(dir, { recursive: true, force: true });
