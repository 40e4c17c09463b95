/**
 * Probe behind docs/decisions/019-sqlite-written-row.md (not part of the benchmark tables): the cost of
 * one fenced worker write on SQLite (the `progress` transition's UPDATE) by what it returns. One row, one
 * transaction of N updates per variant, alternating rounds.
 *
 *   npx tsx src/probe-sqlite-fenced-write.ts [N] [rounds]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { EXECUTION_COLUMNS } from "../../dist/state/columns.js";
import { TRANSITIONS } from "../../dist/state/transitions.js";
import { openStore } from "../../dist/store/open-store.js";
import { fencedSql } from "../../dist/store/sqlite/transition-statements.js";
import { WRITTEN_COLUMNS } from "../../dist/store/writes.js";

const [n = "100000", r = "3"] = process.argv.slice(2);
const N = Number(n);
const dir = mkdtempSync(join(tmpdir(), "zart-probe-fenced-"));
const path = join(dir, "zart.db");
const store = await openStore(path);
await store.migrate();
await store.close();
const db = new Database(path);
db.prepare(
  "INSERT INTO executions (id, task, status, data, created_at, updated_at, lease_token, runnable_at) VALUES ('e1', 't', 'running', '{}', 1, 1, 1, 5)",
).run();
const base = fencedSql(TRANSITIONS.progress).replace(/ RETURNING [\s\S]*$/, "");
const variants = {
  "RETURNING the whole row (get)": db.prepare(`${base} RETURNING ${EXECUTION_COLUMNS}`),
  "RETURNING every written column (get)": db.prepare(`${base} RETURNING ${WRITTEN_COLUMNS.join(", ")}`),
  "RETURNING status, runnable_at (get)": db.prepare(`${base} RETURNING status, runnable_at`),
  "no RETURNING (run, changes)": db.prepare(base),
};
const params = (i: number) => ({ now: i, steps_completed: 1, crashes: 0, consumed: 0, current_step: "a", id: "e1", token: 1 });
for (let round = 1; round <= Number(r); round++) {
  for (const [name, statement] of Object.entries(variants)) {
    const call = name.includes("(get)") ? (i: number) => statement.get(params(i)) : (i: number) => statement.run(params(i));
    for (let i = 0; i < 5000; i++) call(i);
    const t0 = performance.now();
    db.transaction(() => {
      for (let i = 0; i < N; i++) call(i);
    })();
    console.log(`round ${round}  ${name.padEnd(40)} ${(((performance.now() - t0) * 1000) / N).toFixed(2)} µs per write`);
  }
}
db.close();
rmSync(dir, { recursive: true, force: true });
