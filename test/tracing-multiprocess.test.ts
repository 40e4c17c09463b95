/**
 * A trace that starts in an HTTP caller (this process, with its own SDK) and continues on a worker in
 * another process: the caller sends `traceparent` with POST /api/v1/executions to an API-only server
 * process, a `zart worker` process (its SDK registered with `node --import`, writing spans to a file)
 * runs the execution, and its spans carry the caller's trace id, the run's span the caller's span as
 * parent. Real processes on one SQLite file.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { trace } from "@opentelemetry/api";
import { ZartClient } from "../src/client/index.js";
import { formatTraceparent } from "../src/core/trace-context.js";
import { childEnv, ROOT, WatchedProcess } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { parentId, type RegisteredSdk, registerSdk } from "./support/otel.js";
import { type ServerProcess, startServer } from "./support/server-process.js";

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
  status: number;
}

/** `zart worker` with the OpenTelemetry SDK of test/fixtures/otel-file-exporter.ts, which writes spans to `spansFile`. */
async function startTracedWorker(dbPath: string, spansFile: string, batched = false): Promise<WatchedProcess> {
  const [tsx, loader, cli] = cliArgs("zart") as [string, string, string];
  const args = [tsx, loader, "--import", join(ROOT, "test/fixtures/otel-file-exporter.ts"), cli, "worker"];
  args.push("--database", dbPath, "--tasks", "test/support/test-tasks.ts", "--log-level", "warn");
  const worker = new WatchedProcess("traced worker", process.execPath, args, {
    env: childEnv({ ZART_TEST_SPANS_FILE: spansFile, ZART_TEST_SPANS_BATCH: batched ? "1" : "0" }),
  });
  try {
    await worker.waitForLine((line) => line.startsWith("zart worker running"), "its start-up line", 45_000);
    return worker;
  } catch (error) {
    await worker.killHard();
    throw error;
  }
}

function exportedSpans(spansFile: string): ExportedSpan[] {
  if (!existsSync(spansFile)) return [];
  return readFileSync(spansFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ExportedSpan);
}

describe("a trace across processes", () => {
  let sdk: RegisteredSdk;
  let api: ServerProcess;
  let worker: WatchedProcess;
  let spansFile: string;

  before(async () => {
    sdk = registerSdk();
    api = await startServer({ args: ["--no-worker"] });
    spansFile = join(api.dir, "worker-spans.jsonl");
    worker = await startTracedWorker(api.dbPath, spansFile);
  });

  after(async () => {
    await worker.stop();
    assert.equal(await api.stop(), 0);
    await sdk.unregister();
  });

  test("the caller's span is the parent of the worker's run span; the step's span is under the run's", async () => {
    const tracer = trace.getTracer("caller");
    const client = new ZartClient({ baseUrl: api.url });
    const { id, caller } = await tracer.startActiveSpan("checkout", async (span) => {
      try {
        // The client sends it as the `traceparent` header of POST /api/v1/executions.
        const scheduled = await client.schedule("echo", { order: 42 }, { traceparent: formatTraceparent(span.spanContext()) });
        const waited = await client.wait(scheduled, { timeoutSeconds: 60 });
        assert.ok(waited.done, JSON.stringify(waited));
        assert.deepEqual(waited.output, { echo: { order: 42 } });
        return { id: scheduled.execution_id, caller: span.spanContext() };
      } finally {
        span.end();
      }
    });
    // The worker's spans are all written once it has exited (the run ended before its stop).
    assert.equal((await worker.stop()).code, 0);

    const exported = exportedSpans(spansFile);
    const run = exported.find((s) => s.name === "zart.execution echo");
    assert.ok(run, JSON.stringify(exported));
    assert.equal(run.traceId, caller.traceId);
    assert.equal(run.parentSpanId, caller.spanId);
    assert.deepEqual(run.attributes, { "zart.execution.id": id, "zart.task": "echo", "zart.attempt": 1, "zart.status": "completed" });
    const step = exported.find((s) => s.name === "zart.step echo");
    assert.ok(step, JSON.stringify(exported));
    assert.equal(step.traceId, caller.traceId);
    assert.equal(step.parentSpanId, run.spanId);
    assert.equal(step.attributes["zart.status"], "completed");

    // The caller's own span, exported in this process, is the root of the same trace.
    const checkout = sdk.spans().find((s) => s.name === "checkout");
    assert.ok(checkout);
    assert.equal(checkout.spanContext().traceId, run.traceId);
    assert.equal(parentId(checkout), undefined);
  });
});

describe("a worker that batches its spans", () => {
  test("exports the spans it still holds when it stops on SIGTERM", async () => {
    const api = await startServer({ args: ["--no-worker"] });
    const spansFile = join(api.dir, "batched-spans.jsonl");
    try {
      const worker = await startTracedWorker(api.dbPath, spansFile, true);
      const client = new ZartClient({ baseUrl: api.url });
      const scheduled = await client.schedule("echo", { batched: true });
      assert.ok((await client.wait(scheduled, { timeoutSeconds: 60 })).done);
      assert.equal((await worker.stop()).code, 0);
      const names = exportedSpans(spansFile).map((s) => s.name);
      assert.ok(names.includes("zart.execution echo"), JSON.stringify(names));
      assert.ok(names.includes("zart.step echo"), JSON.stringify(names));
    } finally {
      assert.equal(await api.stop(), 0);
    }
  });
});
