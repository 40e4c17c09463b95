/**
 * A POST for a task that no live worker serves is accepted (the contract's 201), and said: a warning in
 * the log, `unserved_tasks` in /readyz and the `zart_task_unserved_pending` gauge, until a worker for it
 * starts. Two engines on one SQLite file: one that ran the task and stopped, and an API-only one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { deferred } from "./support/deferred.js";
import { serveInProcess } from "./support/in-process-server.js";

const report = defineTask({
  name: "report",
  async run(ctx) {
    return ctx.step("build", () => "done");
  },
});

/** A logger that hands its warnings to `onWarn`. */
function capturing(onWarn: (obj: object | string, msg?: string) => void): Logger {
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: onWarn, child: () => logger };
  return logger;
}

test("an execution of a task no live worker serves: 201, a warning, /readyz and the gauge say so until a worker starts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-unserved-"));
  const store = await openStore(join(dir, "zart.db"));
  try {
    // The task's only worker registers it, then stops (its heartbeat row goes with it).
    const retired = await Engine.start({ store, tasks: [report] });
    await retired.stop();

    const warned = deferred<{ obj: object | string; msg?: string }>();
    const api = await Engine.start({
      store,
      tasks: [],
      worker: false,
      logger: capturing((obj, msg) => {
        if (typeof msg === "string" && msg.includes("no live worker")) warned.resolve({ obj, msg });
      }),
    });
    const { api: base, server } = await serveInProcess(api);
    try {
      const created = await fetch(`${base}/executions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ task: "report", data: {} }),
      });
      assert.equal(created.status, 201, "accepted all the same");
      const { execution_id: id } = (await created.json()) as { execution_id: string };
      const warning = await warned.promise;
      assert.match(warning.msg ?? "", /no live worker serves task "report"/);
      assert.deepEqual(warning.obj, { task: "report", executionId: id });

      const origin = base.replace("/api/v1", "");
      const ready = await fetch(`${origin}/readyz`);
      assert.equal(ready.status, 200, "the server is ready: it accepts and stores the work");
      assert.deepEqual(await ready.json(), { status: "ready", unserved_tasks: [{ task: "report", pending: 1 }] });
      const metrics = await (await fetch(`${origin}/metrics`)).text();
      assert.match(metrics, /^zart_task_unserved_pending\{task="report"\} 1$/m);

      // A worker for it starts: the execution runs, and nothing is unserved any more.
      const worker = await Engine.start({ store, tasks: [report] });
      try {
        assert.equal((await api.waitForTerminal(id, 30_000)).status, "completed");
        assert.deepEqual(await (await fetch(`${origin}/readyz`)).json(), { status: "ready" });
        assert.doesNotMatch(await (await fetch(`${origin}/metrics`)).text(), /^zart_task_unserved_pending\{/m);
      } finally {
        await worker.stop();
      }
    } finally {
      await server.close();
      await api.stop();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
