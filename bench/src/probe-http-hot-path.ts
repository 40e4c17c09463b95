/**
 * Probe behind docs/decisions/016-terminal-response-bodies.md and 017-metrics-label-children.md (not part
 * of the benchmark tables): two per-request costs of `GET /executions/:id`, each against its alternative,
 * in one process, alternating, median over rounds of 100,000 calls.
 *
 * - The body of a finished execution (src/server/serialize.ts `executionJson`): built for every request
 *   (a distinct record object each call, as a store read returns) vs built once per record object (the
 *   engine serves a finished record from memory as the same object, so its body is reused).
 * - The request-duration histogram (src/server/metrics.ts): `histogram.observe(labels, seconds)`, which
 *   hashes the label object on every call, vs one labelled child kept per (route, method, status).
 *
 *   npx tsx src/probe-http-hot-path.ts [rounds, default 7]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Histogram, Registry } from "prom-client";
import type { ExecutionRecord } from "../../dist/core/types.js";
import { Engine } from "../../dist/engine/engine.js";
import { ServerMetrics } from "../../dist/server/metrics.js";
import { executionJson } from "../../dist/server/serialize.js";
import { openStore } from "../../dist/store/open-store.js";
import { benchTasks, TASK_FOR } from "./zart-tasks.js";

const rounds = Number(process.argv[2] ?? 7);
const CALLS = 100_000;

// A real finished record: one W0 execution run by an engine on a throwaway SQLite file.
const dir = mkdtempSync(join(tmpdir(), "zart-probe-http-"));
const store = await openStore(join(dir, "zart.db"));
await store.migrate();
const engine = await Engine.start({ store, tasks: benchTasks, worker: { concurrency: 1 }, migrate: false });
const { execution } = await engine.schedule({ task: TASK_FOR.w0, data: { i: 7 } });
const record: ExecutionRecord = await engine.waitForTerminal(execution.id, 30_000);
await engine.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });
if (record.status !== "completed") throw new Error(`the record is ${record.status}`);

let sink = 0;
function usPerCall(op: (k: number) => void): number {
  const started = performance.now();
  for (let k = 0; k < CALLS; k++) op(k);
  return ((performance.now() - started) * 1000) / CALLS;
}

const copies: ExecutionRecord[] = Array.from({ length: CALLS }, () => ({ ...record }));
const cases: Record<string, () => number> = {
  "body: built per request": () =>
    usPerCall((k) => {
      sink += executionJson(copies[k] as ExecutionRecord).length;
    }),
  "body: built once per record": () =>
    usPerCall(() => {
      sink += executionJson(record).length;
    }),
};

const metrics = new ServerMetrics();
const plain = new Histogram({
  name: "probe_http_request_duration_seconds",
  help: "the same histogram, observed with a label object per call",
  labelNames: ["route", "method", "status"],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
  registers: [new Registry()],
});
const route = "/api/v1/executions/:id";
cases["histogram: observe(labels, seconds)"] = () =>
  usPerCall((k) => {
    plain.observe({ route, method: "GET", status: String(200) }, k * 1e-7);
  });
cases["histogram: kept child (ServerMetrics.observeRequest)"] = () =>
  usPerCall((k) => {
    metrics.observeRequest(route, "GET", 200, k * 1e-7);
  });

const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < rounds + 1; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const us = run();
    if (round > 0) times[name]?.push(us); // round 0 warms the JIT
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
for (const [name, xs] of Object.entries(times)) {
  console.log(
    JSON.stringify({
      case: name,
      rounds,
      callsPerRound: CALLS,
      medianUsPerCall: +median(xs).toFixed(3),
      minUs: +Math.min(...xs).toFixed(3),
    }),
  );
}
console.log(JSON.stringify({ node: process.version, checksum: sink > 0 }));
