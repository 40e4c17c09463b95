/**
 * The benchmark suite still runs end to end: the bench harness on tiny N, Zart on SQLite only (no
 * peers, no PostgreSQL, no bench/node_modules), in its own process as `npm run bench` would run it.
 * Checked: it exits 0, every run's output check passed (nothing skipped, nothing run twice), every
 * workload of the selected figures ran (W20, K steps per execution, W0 with priorities and concurrency
 * keys, a parent with ten children), and the tables were printed. Benchmarks themselves are not part of
 * the test command.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type Finished, runToEnd, tsArgs } from "./support/child-process.js";

const MAIN = new URL("../bench/src/main.ts", import.meta.url).pathname;

interface Checked {
  system: string;
  check: { ok: boolean; detail: string };
}

interface ThroughputChecked extends Checked {
  workload: string;
  variant: string;
  concurrency: number;
}

function runBench(args: string[]): Promise<Finished> {
  return runToEnd(process.execPath, [...tsArgs(MAIN), ...args]);
}

// Minutes on a busy 2-core machine (it starts the harness and a worker process through tsx).
test("bench harness runs Zart on SQLite end to end on tiny N", { timeout: 480_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-bench-smoke-"));
  const out = join(dir, "results.json");
  try {
    const { code, stdout, stderr } = await runBench([
      "--mode",
      "tiny",
      "--systems",
      "zart-sqlite",
      "--figures",
      "throughput,latency,wake,enqueue,w20,steps,w0-features,children",
      "--out",
      out,
    ]);
    assert.equal(code, 0, `bench exited ${code}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`);
    assert.match(stdout, /### Worker throughput/);
    assert.match(stdout, /### Latency, one execution at a time/);
    assert.match(stdout, /### Targets/);
    assert.match(stdout, /### Checkpoint cost by steps per execution/);
    assert.match(stdout, /### W0 claim throughput with priorities and concurrency keys/);
    assert.match(stdout, /### Parent \+ 10 children/);
    assert.match(stdout, /Output checks: all passed/);

    const results = JSON.parse(readFileSync(out, "utf8")) as { throughput: ThroughputChecked[]; latency: Checked[]; failures: unknown[] };
    assert.deepEqual(results.failures, []);
    assert.ok(results.throughput.length >= 4, "throughput runs recorded");
    assert.ok(results.latency.length >= 3, "latency and event-wake runs recorded");
    const ran = new Set(results.throughput.map((r) => `${r.workload} ${r.variant} C=${r.concurrency}`));
    for (const cell of [
      "w20 default C=10",
      "w20 default C=50",
      "steps-1 default C=10",
      "steps-200 default C=10",
      "w0 priority C=50",
      "w0 keyed C=50",
      "parent10 default C=10",
    ]) {
      assert.ok(ran.has(cell), `throughput cell "${cell}" ran (ran: ${[...ran].join(", ")})`);
    }
    for (const record of [...results.throughput, ...results.latency]) {
      assert.equal(record.system, "zart-sqlite");
      assert.ok(record.check.ok, record.check.detail);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
