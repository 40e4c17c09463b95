/**
 * Micro-benchmark: what one checkpoint costs on the embedded SQLite store.
 *
 *   node --import tsx bench/checkpoint-sqlite.ts [--runs 5] [--executions 400] [--steps 20]
 *
 * Runs executions of a task with S trivial steps and of a task with none, one at a time (latency: each
 * step waits for its own commit) and 50 at a time (group commit shares a transaction among concurrent
 * executions). Per-checkpoint overhead = (time with S steps − time with 0 steps) ÷ (S × executions).
 * Prints the median and min–max over runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    executions: { type: "string", default: "400" },
    steps: { type: "string", default: "20" },
  },
});
const RUNS = Number(values.runs);
const EXECUTIONS = Number(values.executions);
const STEPS = Number(values.steps);

const withSteps = defineTask({
  name: "steps",
  async run(ctx, data: { i: number }) {
    let v = data.i;
    for (let s = 0; s < STEPS; s++) v = await ctx.step(`s${s}`, () => v + 1);
    return v;
  },
});
const noSteps = defineTask({ name: "none", run: (_ctx, data: { i: number }) => data.i });

async function timeBatch(engine: Engine, task: string, count: number, inFlight: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const { execution } = await engine.schedule({ task, data: { i } });
      const done = await engine.waitForTerminal(execution.id, 60_000);
      if (done.status !== "completed") throw new Error(`execution ${execution.id} ended ${done.status}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return performance.now() - started;
}

async function oneRun(inFlight: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zart-bench-"));
  const store = await openStore(join(dir, "zart.db"));
  const engine = await Engine.start({ store, tasks: [withSteps, noSteps], worker: { concurrency: 50 } });
  try {
    await timeBatch(engine, "steps", 20, inFlight); // warm-up: JIT, prepared statements
    const base = await timeBatch(engine, "none", EXECUTIONS, inFlight);
    const stepped = await timeBatch(engine, "steps", EXECUTIONS, inFlight);
    return ((stepped - base) * 1000) / (STEPS * EXECUTIONS);
  } finally {
    await engine.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  return `${median.toFixed(1)} µs (min ${sorted[0]?.toFixed(1)} – max ${sorted.at(-1)?.toFixed(1)})`;
}

const results: Record<string, number[]> = { "one at a time": [], "50 in flight": [] };
for (let run = 0; run < RUNS; run++) {
  results["one at a time"]?.push(await oneRun(1));
  results["50 in flight"]?.push(await oneRun(50));
}
console.log(`SQLite checkpoint overhead per step (${EXECUTIONS} executions × ${STEPS} steps, ${RUNS} runs, median):`);
for (const [mode, samples] of Object.entries(results)) console.log(`  ${mode.padEnd(14)} ${summary(samples)}`);
