/**
 * Probe behind docs/decisions/015-no-async-context-tracking.md (not part of the benchmark tables): the cost
 * of AsyncLocalStorage on promise-heavy code in this Node version. The same promise-heavy work (async
 * functions awaiting each other, `Promise.all` over small batches, as workflow code and the engine do) runs
 * in a fresh child process per sample, alternately without async context tracking and inside
 * `AsyncLocalStorage.run` (which, on Node 20, turns on promise hooks for every promise of the process).
 * Prints one JSON line per sample and the median ratio.
 *
 *   npx tsx src/probe-async-context.ts [samples per mode, default 5] [iterations, default 200000]
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

async function leaf(i: number): Promise<number> {
  return i;
}

async function middle(i: number): Promise<number> {
  const a = await leaf(i);
  const b = await leaf(a + 1);
  return a + b;
}

async function work(iterations: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < iterations; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => middle(i + k)));
    for (const x of batch) sum += x;
  }
  return sum;
}

const [role, modeOrSamples, iterationsArg] = process.argv.slice(2);
if (role === "child") {
  const iterations = Number(iterationsArg);
  const started = performance.now();
  if (modeOrSamples === "als") {
    const storage = new AsyncLocalStorage<{ step: string }>();
    await storage.run({ step: "probe" }, () => work(iterations));
  } else {
    await work(iterations);
  }
  console.log(JSON.stringify({ mode: modeOrSamples, ms: +(performance.now() - started).toFixed(1) }));
} else {
  const samples = Number(role ?? 5);
  const iterations = Number(modeOrSamples ?? 200_000);
  const self = fileURLToPath(import.meta.url);
  const times: Record<string, number[]> = { plain: [], als: [] };
  for (let k = 0; k < samples; k++) {
    for (const mode of ["plain", "als"]) {
      const out = execFileSync(process.execPath, [...process.execArgv, self, "child", mode, String(iterations)], { encoding: "utf8" });
      const { ms } = JSON.parse(out.trim()) as { ms: number };
      times[mode]?.push(ms);
      console.log(JSON.stringify({ sample: k, mode, iterations, ms, node: process.version }));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const plain = median(times.plain ?? []);
  const als = median(times.als ?? []);
  console.log(JSON.stringify({ medianMs: { plain, als }, ratio: +(als / plain).toFixed(2) }));
}
