/**
 * Probe behind docs/decisions/014-sqlite-insert-batching.md (not part of the benchmark tables): 50 concurrent
 * callers schedule N executions through an API-only engine on a fresh SQLite file (what `POST /executions`
 * does under 50 connections, without HTTP), with the store's insert batching (concurrent inserts of one
 * event-loop turn share one transaction) and with one transaction per insert, alternating round by round.
 * Prints one JSON line per run (executions created/s, Node CPU µs per insert) and the medians.
 *
 *   npx tsx src/probe-sqlite-insert.ts [N, default 20000] [rounds, default 3] [callers, default 50]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import { InsertBatcher } from "../../dist/store/sqlite/insert-batcher.js";
import { benchTasks, TASK_FOR } from "./zart-tasks.js";

const [n = "20000", r = "3", c = "50"] = process.argv.slice(2);
const total = Number(n);
const rounds = Number(r);
const callers = Number(c);

const batchedSubmit = InsertBatcher.prototype.submit;
type Internals = { scheduled: boolean; flush(): void };
/** One transaction per insert: the submit writes its own row at once (the batcher's own flush, of one). */
function oneTransactionEach(this: InsertBatcher, input: Parameters<InsertBatcher["submit"]>[0]) {
  const self = this as unknown as Internals;
  self.scheduled = true; // so the original submit queues without scheduling a flush for later
  const result = batchedSubmit.call(this, input);
  self.flush();
  return result;
}

async function run(mode: "batched" | "one-per-transaction"): Promise<{ perSecond: number; cpuUs: number }> {
  InsertBatcher.prototype.submit = mode === "batched" ? batchedSubmit : oneTransactionEach;
  const dir = mkdtempSync(join(tmpdir(), "zart-probe-insert-"));
  const store = await openStore(join(dir, "zart.db"));
  await store.migrate();
  const engine = await Engine.start({ store, tasks: benchTasks, worker: false, migrate: false });
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < total) await engine.schedule({ task: TASK_FOR.w0, data: { i: next++ } });
    }),
  );
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const created = (await store.countByStatus()).pending;
  if (created !== total) throw new Error(`${created} executions stored, expected ${total}`);
  await engine.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: Math.round(total / (ms / 1000)), cpuUs: Math.round((cpu.user + cpu.system) / total) };
}

const modes = ["batched", "one-per-transaction"] as const;
const results: Record<string, number[]> = { batched: [], "one-per-transaction": [] };
await run("batched"); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    const { perSecond, cpuUs } = await run(mode);
    results[mode]?.push(perSecond);
    console.log(JSON.stringify({ round, mode, callers, n: total, createdPerSecond: perSecond, nodeCpuUsPerInsert: cpuUs }));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ median: Object.fromEntries(modes.map((m) => [m, median(results[m] ?? [])])) }));
