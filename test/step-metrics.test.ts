/**
 * The /metrics series of operations.md §6 that the engine feeds: steps by outcome, step attempt retries,
 * schedule ticks, pruned executions, and executions by status from the store's counts. A real engine on a
 * temporary SQLite file reports into the server's prom-client registry.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { ServerMetrics } from "../src/server/metrics.js";
import { openStore } from "../src/store/open-store.js";

/** The value of one series in Prometheus text, or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("step and execution metrics", () => {
  test("steps by outcome, retries, executions by status; schedule ticks and prunes through their hooks", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zart-metrics-"));
    const store = await openStore(join(dir, "zart.db"));
    const clock = new ManualClock();
    const metrics = new ServerMetrics();
    let failures = 2;
    const task = defineTask({
      name: "metered",
      async run(ctx) {
        await ctx.step(
          "flaky",
          () => {
            if (failures-- > 0) throw new Error("not yet");
          },
          { retry: { maxAttempts: 3, initialDelay: "1s", backoff: "fixed", jitter: 0 } },
        );
        await ctx.step("fine", () => 1);
        await ctx.step("doomed", () => {
          throw new Error("never");
        });
      },
    });
    const engine = await Engine.start({ store, clock, metrics, tasks: [task], logger: silentLogger });
    metrics.attach({ api: engine, openLongPolls: () => 0 });
    try {
      const { execution } = await engine.schedule({ task: "metered", data: {} });
      await clock.whenSleeping();
      clock.advance(1000);
      await clock.whenSleeping();
      clock.advance(1000);
      assert.equal((await engine.waitForTerminal(execution.id, 1e9)).status, "failed");
      metrics.scheduleTicked("nightly", "started");
      metrics.scheduleTicked("nightly", "started");
      metrics.pruned(3);
      metrics.pruned(0);

      const { text } = await metrics.render();
      assert.equal(sample(text, 'zart_steps_total{task="metered",outcome="completed"}'), 2, text);
      assert.equal(sample(text, 'zart_steps_total{task="metered",outcome="failed"}'), 1);
      assert.equal(sample(text, 'zart_step_retries_total{task="metered"}'), 2);
      assert.equal(sample(text, 'zart_step_duration_seconds_count{task="metered",outcome="failed"}'), 3, "attempts, not steps");
      assert.equal(sample(text, 'zart_executions{status="failed"}'), 1);
      assert.equal(sample(text, 'zart_executions{status="completed"}'), 0);
      assert.equal(sample(text, 'zart_schedule_ticks_total{schedule="nightly",outcome="started"}'), 2);
      assert.equal(sample(text, "zart_executions_pruned_total"), 3);
    } finally {
      await engine.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
