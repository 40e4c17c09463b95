/**
 * Micro-benchmark: what the OpenTelemetry hooks cost a run and a step (src/worker/tracing.ts), with no SDK
 * registered (the default: @opentelemetry/api's no-op tracer) and with one registered, against what a step
 * costs end to end on the SQLite store.
 *
 *   node --import tsx bench/otel-cost.ts [--runs 5] [--iterations 200000]
 *
 * Prints nanoseconds per operation (median and min–max over runs) as JSON.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import type { ExecutionRecord } from "../src/core/types.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { RunTrace } from "../src/worker/tracing.js";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, iterations: { type: "string", default: "200000" } } });
const RUNS = Number(values.runs);
const N = Number(values.iterations);

const execution = {
  id: "exec-0bench0000000000000000000",
  task: "bench",
  attempt: 1,
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
} as ExecutionRecord;

function nsPerOp(op: () => void): number {
  for (let i = 0; i < 10_000; i++) op();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) op();
  return Number(process.hrtime.bigint() - start) / N;
}

function summary(samples: number[]): { median: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { median: round(sorted[Math.floor(sorted.length / 2)]!), min: round(sorted[0]!), max: round(sorted.at(-1)!) };
}

function measureHooks(): Record<string, number> {
  const run = new RunTrace(execution);
  return {
    // Per run: the run span (started, made the context the task runs in, ended).
    run: nsPerOp(() => {
      const t = new RunTrace(execution);
      t.run(() => 0);
      t.end("completed");
    }),
    // Per step attempt: the span (or, with nothing recording, the test that skips it), the step run in its context.
    step: nsPerOp(() => {
      const span = run.step("step", 1);
      if (span) {
        span.run(() => 0);
        span.end();
      }
    }),
  };
}

/** End to end: executions of a task with 20 trivial steps, 50 at a time, on a SQLite file. */
async function stepEndToEnd(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zart-otel-bench-"));
  const store = await openStore(join(dir, "bench.db"));
  const steps = 20;
  const executions = 200;
  const task = defineTask({
    name: "bench",
    async run(ctx) {
      for (let i = 0; i < steps; i++) await ctx.step(`s${i}`, () => i);
    },
  });
  const engine = await Engine.start({ store, tasks: [task], logger: silentLogger, worker: { concurrency: 50 } });
  try {
    const start = process.hrtime.bigint();
    const ids = await Promise.all(Array.from({ length: executions }, async () => (await engine.schedule(task, {})).id));
    await Promise.all(ids.map((id) => engine.result(id)));
    return Number(process.hrtime.bigint() - start) / (executions * steps);
  } finally {
    await engine.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const noSdk = { run: [] as number[], step: [] as number[], e2e: [] as number[] };
for (let r = 0; r < RUNS; r++) {
  const hooks = measureHooks();
  noSdk.run.push(hooks.run!);
  noSdk.step.push(hooks.step!);
  noSdk.e2e.push(await stepEndToEnd());
}

// An SDK that records every span and exports it to nowhere: the cost of tracing switched on.
const discard: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(discard)] }));
const withSdk = { run: [] as number[], step: [] as number[], e2e: [] as number[] };
for (let r = 0; r < RUNS; r++) {
  const hooks = measureHooks();
  withSdk.run.push(hooks.run!);
  withSdk.step.push(hooks.step!);
  withSdk.e2e.push(await stepEndToEnd());
}

const show = (m: typeof noSdk) => ({
  runHookNs: summary(m.run),
  stepHookNs: summary(m.step),
  stepEndToEndNs: summary(m.e2e),
});
console.log(JSON.stringify({ node: process.version, runs: RUNS, iterations: N, noSdk: show(noSdk), withSdk: show(withSdk) }, null, 2));
