/**
 * Probe behind docs/decisions/026-sqlite-temp-store.md (not part of the benchmark tables): the cost of a
 * claim's UPDATE (a status change) on SQLite, N rows updated one statement each inside one transaction (as
 * a claim or a checkpoint batch does), by where SQLite keeps its temporary files (`temp_store` FILE, the
 * default, or MEMORY) and with or without the status-count trigger. A fresh file from the store's own
 * migrations per round; rounds alternate.
 *
 *   npx tsx src/probe-sqlite-temp-store.ts [N, default 5000] [rounds, default 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { TRANSITIONS } from "../../dist/state/transitions.js";
import { openStore } from "../../dist/store/open-store.js";
import { transitionSql } from "../../dist/store/sqlite/transition-statements.js";

const [n = "5000", r = "3"] = process.argv.slice(2);
const N = Number(n);
const CLAIM = transitionSql(TRANSITIONS.claim).replace(/ RETURNING [\s\S]*$/, "");
const id = (i: number) => `e${String(i).padStart(8, "0")}`;

async function round(tempStore: "FILE" | "MEMORY", trigger: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zart-probe-temp-store-"));
  const path = join(dir, "zart.db");
  const store = await openStore(path);
  await store.migrate();
  await store.close();
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`temp_store = ${tempStore}`);
  if (!trigger) db.exec("DROP TRIGGER executions_count_update");
  const insert = db.prepare(
    "INSERT INTO executions (id, task, status, data, created_at, updated_at, runnable_at) VALUES (?, 't', 'pending', '{}', ?, ?, ?)",
  );
  db.transaction(() => {
    for (let i = 0; i < N * 4; i++) insert.run(id(i), i, i, i);
  })();
  const claim = db.prepare(CLAIM);
  const started = process.hrtime.bigint();
  db.transaction(() => {
    for (let i = 0; i < N; i++) claim.run({ id: id(i), now: N * 4, worker: "w", lease_ms: 30_000 });
  })();
  const usPerUpdate = Number(process.hrtime.bigint() - started) / 1000 / N;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return usPerUpdate;
}

const results: Record<string, number[]> = {};
for (let i = 0; i < Number(r); i++) {
  for (const tempStore of ["FILE", "MEMORY"] as const) {
    for (const trigger of [true, false]) {
      const name = `temp_store=${tempStore} ${trigger ? "with" : "without"} the count trigger`;
      const us = await round(tempStore, trigger);
      results[name] = [...(results[name] ?? []), us];
      console.log(JSON.stringify({ variant: name, usPerUpdate: Number(us.toFixed(1)) }));
    }
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(JSON.stringify({ medianUsPerUpdate: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) }));
