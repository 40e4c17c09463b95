/**
 * Values PostgreSQL cannot hold. The group committer isolates a checkpoint the database refuses for good:
 * the others in its batch commit once, at once, and only that execution's write fails (no retrying of the
 * whole batch for a lease period). The engine refuses such values where they enter - at the ctx call, at
 * the HTTP request - with the same errors as on SQLite.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import type { Checkpoint, Store } from "../src/store/store.js";
import { CheckpointRejectedError } from "../src/store/store-errors.js";
import { GroupCommitter } from "../src/worker/group-committer.js";
import { assertUnstorableRefused } from "./support/bad-values.js";
import { assertBadValuesFail } from "./support/bad-values-engine.js";
import { serveInProcess } from "./support/in-process-server.js";
import { TestSchema } from "./support/postgres.js";
import { checkpoint, createRunning, stepRecord } from "./support/store-fixtures.js";

const schema = new TestSchema("bad");
after(() => schema.drop());

describe("postgres: values the database refuses", () => {
  test("one refused checkpoint fails alone; the rest of its batch commits once, without a retry wait", async () => {
    const store = await schema.open();
    const applied: string[] = [];
    const counting: Store = Object.assign(Object.create(store) as Store, {
      async applyCheckpoints(batch: readonly Checkpoint[]) {
        const results = await store.applyCheckpoints(batch);
        batch.forEach((c, i) => {
          if (results[i]) applied.push(c.fence.executionId);
        });
        return results;
      },
    });
    try {
      const runs = await Promise.all([1, 2, 3].map((i) => createRunning(store, { task: `iso-${i}` })));
      // The committer's retries wait on this clock; nobody moves it, so a retry wait would hang the test.
      const committer = new GroupCommitter(counting, new ManualClock(), silentLogger, {
        maxBatch: 10,
        maxBatchChars: 1e9,
        maxInFlight: 1,
        retryForMs: 60_000,
      });
      const step = (i: number, name: string) => ({ steps: [stepRecord(runs[i]!.execution.id, name)] });
      const writes = [
        committer.submit(checkpoint(runs[0]!.fence, { transition: "progress", currentStep: null, stepsCompleted: 1 }, step(0, "fine"))),
        // Bypasses the ctx check on purpose: PostgreSQL's jsonb refuses \u0000, deterministically.
        committer.submit(
          checkpoint(runs[1]!.fence, { transition: "progress", currentStep: null, stepsCompleted: 1 }, step(1, "bad\u0000")),
        ),
        committer.submit(checkpoint(runs[2]!.fence, { transition: "complete", outputJson: "1", stepsCompleted: 1 }, step(2, "also-fine"))),
      ];
      const results = await Promise.allSettled(writes);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof CheckpointRejectedError);
      assert.match(String((results[1] as PromiseRejectedResult).reason.message), /refused to record/);
      assert.deepEqual(applied.sort(), [runs[0]!.execution.id, runs[2]!.execution.id].sort(), "each good write committed once");
      assert.equal((await store.getExecution(runs[2]!.execution.id))?.status, "completed");
      assert.equal((await store.getExecution(runs[1]!.execution.id))?.status, "running", "the refused write changed nothing");
    } finally {
      await store.close();
    }
  });

  test("a NUL or an unpaired surrogate in a step name and a too-long sleep fail their execution with a clear error", async () => {
    const store = await schema.open();
    try {
      await assertBadValuesFail(store);
    } finally {
      await store.close();
    }
  });

  test("over HTTP, a NUL or an unpaired surrogate in a key, a name or a task is a 4xx in the contract's shape", async () => {
    const store = await schema.open();
    const waiter = defineTask({ name: "waiter", run: (ctx) => ctx.waitForEvent("go") });
    const engine = await Engine.start({ store, tasks: [waiter], logger: silentLogger });
    const { api, server } = await serveInProcess(engine);
    try {
      const { execution } = await engine.schedule({ task: "waiter", data: {}, eager: false });
      await assertUnstorableRefused(api, "waiter", execution.id);
    } finally {
      await server.close();
      await engine.stop();
      await store.close();
    }
  });
});
