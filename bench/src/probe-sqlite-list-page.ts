/**
 * Probe behind docs/decisions/027-sqlite-rows-as-arrays.md (not part of the benchmark tables): the time of
 * one list page of 100 executions read from the SQLite store (what `GET /api/v1/executions?limit=100`
 * reads), 5,000 rows stored. Like probe-tree-ab.ts it loads the store from `ZART_ROOT` (a checkout, or a
 * tree compiled by compile-tree.ts), so two trees can be compared alternately:
 *
 *   ZART_ROOT=/tmp/tree-a npx tsx src/probe-sqlite-list-page.ts [pages, default 2000]
 */
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(process.env.ZART_ROOT ?? join(import.meta.dirname, "../.."));
const ext = existsSync(join(root, "src/engine/engine.ts")) ? "ts" : "js";
const { openStore } = await import(join(root, `src/store/open-store.${ext}`));

const pages = Number(process.argv[2] ?? "2000");
const file = join(tmpdir(), `zart-list-page-${process.pid}.db`);
const store = await openStore(file);
await store.migrate();
const now = Date.now();
await store.createExecutions(
  Array.from({ length: 5000 }, (_, i) => ({
    id: `exec-${String(i).padStart(8, "0")}`,
    task: "t",
    dataJson: '{"i":1}',
    now,
    idempotencyKey: null,
  })),
);
const query = { limit: 100, offset: 0, order: "desc" };
for (let i = 0; i < 200; i++) await store.listExecutions(query);
const started = process.hrtime.bigint();
for (let i = 0; i < pages; i++) await store.listExecutions(query);
const usPerPage = Number(process.hrtime.bigint() - started) / 1000 / pages;
console.log(JSON.stringify({ root, pages, usPerPage: Number(usPerPage.toFixed(1)) }));
await store.close();
for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
