/**
 * OpenTelemetry spans of runs and step attempts, with a real SDK registered in this process (in-memory
 * exporter): names, attributes, parentage, recorded errors; the `traceparent` an execution stores (from the
 * HTTP header, or the span active around `engine.schedule`) and the trace its runs join. The trace that
 * crosses processes is in tracing-multiprocess.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import pino from "pino";
import { defineTask } from "../src/core/task.js";
import { buildServer } from "../src/server/app.js";
import { createTestEngine } from "../src/testing/index.js";
import { parentId, type RegisteredSdk, registerSdk } from "./support/otel.js";

let sdk: RegisteredSdk;
before(() => {
  sdk = registerSdk();
});
after(() => sdk.unregister());
beforeEach(() => sdk.exporter.reset());

const LONG = 1e9;
const named = (name: string) => sdk.spans().filter((s) => s.name === name);
function one(name: string): ReadableSpan {
  const found = named(name);
  assert.equal(
    found.length,
    1,
    `${name}: ${sdk
      .spans()
      .map((s) => s.name)
      .join(", ")}`,
  );
  return found[0]!;
}

describe("spans of runs and step attempts", () => {
  test("a run is a span zart.execution <task>; each attempt of a step a span zart.step <name> under it", async () => {
    let failures = 1;
    const task = defineTask({
      name: "traced",
      async run(ctx) {
        const value = await ctx.step(
          "flaky",
          () => {
            // Spans the application makes inside a step nest under the step attempt's span.
            trace.getTracer("app").startSpan("app.call").end();
            if (failures-- > 0) throw new Error("first attempt fails");
            return 7;
          },
          { retry: { maxAttempts: 2, initialDelay: "1s" } },
        );
        await ctx.step("after", () => value + 1);
        return value;
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "traced", data: {} });
      await h.clock.whenSleeping();
      h.clock.advance(1000);
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      await h.outcome(execution.id, "completed");

      const run = one("zart.execution traced");
      assert.equal(run.kind, SpanKind.CONSUMER);
      assert.equal(parentId(run), undefined, "no traceparent stored: a new trace");
      assert.deepEqual(run.attributes, {
        "zart.execution.id": execution.id,
        "zart.task": "traced",
        "zart.attempt": 1,
        "zart.status": "completed",
      });
      assert.equal(run.status.code, SpanStatusCode.UNSET);

      const attempts = named("zart.step flaky").sort((a, b) => Number(a.attributes["zart.attempt"]) - Number(b.attributes["zart.attempt"]));
      assert.equal(attempts.length, 2);
      for (const [i, span] of attempts.entries()) {
        assert.equal(parentId(span), run.spanContext().spanId);
        assert.equal(span.spanContext().traceId, run.spanContext().traceId);
        assert.equal(span.attributes["zart.step.name"], "flaky");
        assert.equal(span.attributes["zart.execution.id"], execution.id);
        assert.equal(span.attributes["zart.attempt"], i + 1);
      }
      const [failed, succeeded] = attempts as [ReadableSpan, ReadableSpan];
      assert.equal(failed.attributes["zart.status"], "failed");
      assert.equal(failed.status.code, SpanStatusCode.ERROR);
      assert.equal(failed.events[0]?.name, "exception");
      assert.equal(failed.events[0]?.attributes?.["exception.message"], "first attempt fails");
      assert.equal(succeeded.attributes["zart.status"], "completed");
      assert.equal(succeeded.status.code, SpanStatusCode.UNSET);
      assert.equal(parentId(one("zart.step after")), run.spanContext().spanId);

      const appSpans = named("app.call");
      assert.equal(appSpans.length, 2);
      assert.deepEqual(appSpans.map(parentId).sort(), attempts.map((s) => s.spanContext().spanId).sort());
    } finally {
      await h.close();
    }
  });

  test("a failed execution's run span records the error; a task-level retry's run ends requeued", async () => {
    const task = defineTask({
      name: "broken",
      retry: { maxAttempts: 2, initialDelay: "1s" },
      async run(ctx) {
        if (ctx.attempt === 1) throw new TypeError("retry me");
        await ctx.step("fails", () => {
          throw new Error("for good");
        });
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "broken", data: {} });
      await h.outcome(execution.id, "requeued");
      h.clock.advance(1000);
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "failed");
      await h.outcome(execution.id, "failed");
      const runs = named("zart.execution broken").sort(
        (a, b) => Number(a.attributes["zart.attempt"]) - Number(b.attributes["zart.attempt"]),
      );
      assert.deepEqual(
        runs.map((r) => [r.attributes["zart.attempt"], r.attributes["zart.status"], r.status.code]),
        [
          [1, "requeued", SpanStatusCode.ERROR],
          [2, "failed", SpanStatusCode.ERROR],
        ],
      );
      assert.equal(runs[0]?.events[0]?.attributes?.["exception.type"], "TypeError");
      assert.equal(runs[0]?.events[0]?.attributes?.["exception.message"], "retry me");
      assert.match(String(runs[1]?.events[0]?.attributes?.["exception.message"]), /for good/);
      assert.equal(runs[1]?.events.length, 1, "the failure is recorded once");
      assert.equal(one("zart.step fails").status.code, SpanStatusCode.ERROR);
    } finally {
      await h.close();
    }
  });
});

describe("the trace an execution joins", () => {
  test("engine.schedule inside an active span stores its context; every run of the execution is its child", async () => {
    const task = defineTask({
      name: "napper",
      async run(ctx) {
        await ctx.sleep("nap", "1m");
        return "rested";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await trace.getTracer("app").startActiveSpan("caller", async (span) => {
        try {
          return await h.engine.schedule({ task: "napper", data: {} });
        } finally {
          span.end();
        }
      });
      const callerSpan = one("caller");
      assert.equal(execution.traceparent, `00-${callerSpan.spanContext().traceId}-${callerSpan.spanContext().spanId}-01`);
      await h.outcome(execution.id, "parked");
      h.clock.advance(60_000);
      await h.engine.waitForTerminal(execution.id, LONG);
      await h.outcome(execution.id, "completed");
      const runs = named("zart.execution napper");
      assert.deepEqual(runs.map((r) => r.attributes["zart.status"]).sort(), ["completed", "parked"]);
      for (const run of runs) {
        assert.equal(run.spanContext().traceId, callerSpan.spanContext().traceId);
        assert.equal(parentId(run), callerSpan.spanContext().spanId);
      }
    } finally {
      await h.close();
    }
  });

  test("a child execution joins its parent's trace, under the parent's run", async () => {
    const child = defineTask({
      name: "child",
      async run() {
        return 1;
      },
    });
    const parent = defineTask({
      name: "parent",
      async run(ctx) {
        return ctx.runChild("child", child, {});
      },
    });
    const h = await createTestEngine({ tasks: [parent, child] });
    try {
      const { execution } = await h.engine.schedule({ task: "parent", data: {} });
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      await h.outcome(execution.id, "completed");
      const parentRuns = named("zart.execution parent");
      const childRun = one("zart.execution child");
      const first = parentRuns.find((r) => r.attributes["zart.status"] === "parked");
      assert.ok(first, parentRuns.map((r) => r.attributes["zart.status"]).join());
      assert.equal(childRun.spanContext().traceId, first.spanContext().traceId);
      assert.equal(parentId(childRun), first.spanContext().spanId);
    } finally {
      await h.close();
    }
  });

  test("POST /executions stores a valid traceparent header (normalised), ignores an invalid one, and the run joins it; engine.schedule refuses an invalid one", async () => {
    const task = defineTask({
      name: "quick",
      async run() {
        return "ok";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    const server = await buildServer(h.engine, { tokens: [], bodyLimit: 1 << 20, metricsPublic: false }, pino({ level: "silent" }));
    try {
      const post = (traceparent?: string) =>
        server.app.inject({
          method: "POST",
          url: "/api/v1/executions",
          headers: { "content-type": "application/json", ...(traceparent === undefined ? {} : { traceparent }) },
          payload: { task: "quick", data: {} },
        });
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const spanId = "00f067aa0ba902b7";
      const cases: Array<[string | undefined, string | null]> = [
        [`00-${traceId}-${spanId}-01`, `00-${traceId}-${spanId}-01`],
        // A later version: its extra fields are ignored, the first four kept.
        [`01-${traceId}-${spanId}-01-extra`, `00-${traceId}-${spanId}-01`],
        // Not sampled by the caller: stored, and the SDK's default (parent-based) sampler records nothing.
        [`00-${traceId}-${spanId}-00`, `00-${traceId}-${spanId}-00`],
        [`00-${traceId.toUpperCase()}-${spanId}-01`, null],
        [`00-${"0".repeat(32)}-${spanId}-01`, null],
        [`00-${traceId}-${"0".repeat(16)}-01`, null],
        [`ff-${traceId}-${spanId}-01`, null],
        [`00-${traceId}-${spanId}-01-extra`, null],
        ["garbage", null],
        [undefined, null],
      ];
      for (const [header, stored] of cases) {
        const response = await post(header);
        assert.equal(response.statusCode, 201, `${header}: ${response.body}`);
        const id = (response.json() as { execution_id: string }).execution_id;
        assert.equal((await h.engine.get(id)).traceparent, stored, String(header));
        await h.engine.waitForTerminal(id, LONG);
        await h.outcome(id, "completed");
        const run = sdk.spans().find((s) => s.attributes["zart.execution.id"] === id);
        if (stored?.endsWith("-00")) {
          assert.equal(run, undefined);
          continue;
        }
        assert.ok(run, String(header));
        if (stored === null) assert.equal(parentId(run), undefined, String(header));
        else {
          assert.equal(run.spanContext().traceId, traceId);
          assert.equal(parentId(run), spanId);
        }
      }
      // The library's traceparent option reads values by the same rules; an invalid one is the caller's mistake.
      for (const [given, stored] of cases) {
        if (given === undefined) continue;
        const schedule = h.engine.schedule({ task: "quick", data: {}, traceparent: given });
        if (stored === null) await assert.rejects(schedule, { code: "invalid_data" }, given);
        else assert.equal((await schedule).execution.traceparent, stored, given);
      }
      assert.equal((await h.engine.schedule({ task: "quick", data: {}, traceparent: null })).execution.traceparent, null);
    } finally {
      await server.close();
      await h.close();
    }
  });
});
