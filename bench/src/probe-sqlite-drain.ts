/**
 * Profiling probe behind docs/decisions/010-execution-ids.md (not part of the benchmark tables): fills N
 * executions into a fresh SQLite file in batches of 5,000 (as `scheduleMany` stores them), then times one
 * in-process worker draining them, and prints executions/s and Node CPU per execution.
 *
 *   npx tsx src/probe-sqlite-drain.ts [w0|w1] [concurrency] [N]
 *   PROBE_IDS=random      fully random ids instead of the engine's time-ordered ones
 *   PROBE_CPUPROF=file    a V8 CPU profile of the drain alone
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../dist/engine/engine.js";
import { newExecutionId } from "../../dist/engine/execution-id.js";
import { openStore } from "../../dist/store/open-store.js";
import { startProfile } from "./cpu-profile.js";
import { benchTasks, observer, TASK_FOR } from "./zart-tasks.js";

const [workload = "w1", c = "50", n = "20000"] = process.argv.slice(2) as ["w0" | "w1", string, string];
const total = Number(n);
const dir = mkdtempSync(join(tmpdir(), "zart-probe-drain-"));
const path = join(dir, "zart.db");

const ids = process.env.PROBE_IDS === "random" ? "random" : "time-ordered";
/** `exec-` + 25 base-36 characters of 128 random bits: the same form, no order. */
const randomId = () =>
  `exec-${BigInt(`0x${randomBytes(16).toString("hex")}`)
    .toString(36)
    .padStart(25, "0")
    .slice(-25)}`;
const filler = await openStore(path);
await filler.migrate();
for (let i = 0; i < total; i += 5000) {
  const now = Date.now();
  const size = Math.min(5000, total - i);
  await filler.createExecutions(
    Array.from({ length: size }, (_, k) => ({
      id: ids === "random" ? randomId() : newExecutionId(now),
      task: TASK_FOR[workload],
      dataJson: JSON.stringify({ i: i + k }),
      idempotencyKey: null,
      now,
    })),
  );
}
await filler.close();

const store = await openStore(path);
let seen = 0;
let allReturned: () => void = () => {};
const returned = new Promise<void>((resolve) => {
  allReturned = resolve;
});
observer.onOutput = () => {
  if (++seen === total) allReturned();
};
const profiler = process.env.PROBE_CPUPROF ? await startProfile(process.env.PROBE_CPUPROF) : null;
const started = performance.now();
const cpuStart = process.cpuUsage();
const engine = await Engine.start({ store, tasks: benchTasks, worker: { concurrency: Number(c) }, migrate: false });
await returned;
// The last completions commit a little after the code returned: wait for every row to be completed.
while ((await store.countByStatus()).completed < total) await new Promise((resolve) => setImmediate(resolve));
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
await profiler?.stop();
console.log(
  `${workload} C=${c} N=${total} ids=${ids}: ${Math.round(total / (ms / 1000))} executions/s, node cpu ${((cpu.user + cpu.system) / total).toFixed(1)} µs per execution`,
);
await engine.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });
