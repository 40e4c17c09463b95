/**
 * How the dashboard fares with many executions stored: fills a temporary SQLite file with N pending
 * executions (default 100,000) through the engine's batch insert, serves it with a real `zart-server`
 * (no worker, so they stay put), and prints how long the API's list and stats take and how long Chromium
 * takes to show a page of 50 rows, first page and last.
 *
 *   node --import tsx scripts/dashboard-scale.ts [N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import examples from "../src/tasks/examples.js";
import { launchBrowser } from "../test/support/browser.js";
import { call, startServer } from "../test/support/server-process.js";

const count = Number(process.argv[2] ?? 100_000);
const BATCH = 1000;
const dir = mkdtempSync(join(tmpdir(), "zart-dashboard-scale-"));

async function seed(): Promise<void> {
  const store = await openStore(join(dir, "zart.db"));
  const engine = await Engine.start({ store, tasks: examples, worker: false });
  const started = performance.now();
  for (let done = 0; done < count; done += BATCH) {
    const size = Math.min(BATCH, count - done);
    await engine.scheduleMany(Array.from({ length: size }, (_, i) => ({ task: "echo", data: { i: done + i } })));
  }
  console.log(`stored ${count.toLocaleString("en-US")} executions in ${(performance.now() - started).toFixed(0)} ms`);
  await engine.stop();
  await store.close();
}

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`${what}: ${(performance.now() - started).toFixed(1)} ms`);
  return result;
}

await seed();
const server = await startServer({ dir, args: ["--no-worker", "--tasks", "src/tasks/examples.ts"] });
const browser = await launchBrowser();
try {
  const api = `${server.url}/api/v1`;
  const lastPage = Math.ceil(count / 50);
  await timed("GET /stats", () => call(`${api}/stats`));
  await timed("GET /executions?limit=50 (first page)", () => call(`${api}/executions?limit=50`));
  await timed(`GET /executions?limit=50&offset=${(lastPage - 1) * 50} (last page)`, () =>
    call(`${api}/executions?limit=50&offset=${(lastPage - 1) * 50}`),
  );
  const page = await browser.newPage();
  const pages: Array<[string, number]> = [
    ["/ui/executions", Math.min(50, count)],
    [`/ui/executions?page=${lastPage}`, count - (lastPage - 1) * 50],
  ];
  for (const [url, rows] of pages) {
    await timed(`browser: ${url} until its ${rows} rows show`, async () => {
      await page.goto(`${server.url}${url}`);
      await page
        .locator("table.executions-table tbody tr")
        .nth(rows - 1)
        .waitFor();
    });
  }
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
