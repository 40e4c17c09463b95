import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { openStore } from "../src/store/open-store.js";
import type { Checkpoint, Store } from "../src/store/store.js";
import { GroupCommitter } from "../src/worker/group-committer.js";

/** The real store, except that its first batch commits and then reports a lost connection. */
function losesFirstReply(store: Store): Store {
  let first = true;
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== "applyCheckpoints") {
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (batch: readonly Checkpoint[]) => {
        const results = await target.applyCheckpoints(batch);
        if (first) {
          first = false;
          throw new Error("Connection terminated unexpectedly");
        }
        return results;
      };
    },
  });
}

test("a write committed before a lost reply counts as applied on retry; a stale token still does not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-gc-"));
  const store = await openStore(join(dir, "z.db"));
  await store.migrate();
  const clock = new ManualClock();
  try {
    const now = clock.now();
    for (const id of ["exec-aaaaaaaa01", "exec-aaaaaaaa02"]) {
      await store.createExecution({ id, task: "t", dataJson: "{}", idempotencyKey: null, now });
    }
    const { claimed } = await store.claim({ workerId: "w", tasks: ["t"], limit: 2, now, leaseMs: 30_000 });
    const [first, second] = claimed.map((c) => ({ executionId: c.execution.id, leaseToken: c.execution.leaseToken }));
    const committer = new GroupCommitter(losesFirstReply(store), clock, silentLogger, {
      maxBatch: 10,
      maxBatchChars: 1e9,
      maxInFlight: 1,
      retryForMs: 60_000,
    });
    const complete = (fence: NonNullable<typeof first>, leaseToken = fence.leaseToken): Checkpoint => ({
      fence: { ...fence, leaseToken },
      owner: { task: "t", parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null },
      now,
      patch: { transition: "complete", outputJson: '"done"' },
      stepsCompleted: 0,
      crashes: 0,
    });
    const results = Promise.all([committer.submit(complete(first!)), committer.submit(complete(second!, 99))]);
    await clock.whenSleeping(1); // the committer waits out its retry backoff on the clock
    clock.advance(50);
    assert.deepEqual(await results, [true, false]);
    assert.equal((await store.getExecution(first!.executionId))?.status, "completed");
    assert.equal((await store.getExecution(second!.executionId))?.status, "running");
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The real store, recording the size of every batch it is given. */
function recordingBatches(store: Store, sizes: number[]): Store {
  return Object.assign(Object.create(store) as Store, {
    async applyCheckpoints(batch: readonly Checkpoint[]) {
      sizes.push(batch.length);
      return store.applyCheckpoints(batch);
    },
  });
}

test("a batch holds at most about maxBatchChars of values, and never two writes of one execution", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-gc-"));
  const store = await openStore(join(dir, "z.db"));
  await store.migrate();
  const clock = new ManualClock();
  try {
    const now = clock.now();
    const ids = ["exec-bbbbbbbb01", "exec-bbbbbbbb02", "exec-bbbbbbbb03"];
    for (const id of ids) await store.createExecution({ id, task: "t", dataJson: "{}", idempotencyKey: null, now });
    const { claimed } = await store.claim({ workerId: "w", tasks: ["t"], limit: 3, now, leaseMs: 30_000 });
    const sizes: number[] = [];
    const committer = new GroupCommitter(recordingBatches(store, sizes), clock, silentLogger, {
      maxBatch: 10,
      maxBatchChars: 1600,
      maxInFlight: 1,
      retryForMs: 60_000,
    });
    const owner = { task: "t", parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null };
    const write = (i: number, transition: "progress" | "complete"): Checkpoint => {
      const c = claimed[i]!;
      return {
        fence: { executionId: c.execution.id, leaseToken: c.execution.leaseToken },
        owner,
        now,
        patch: transition === "complete" ? { transition, outputJson: JSON.stringify("x".repeat(500)) } : { transition, currentStep: null },
        stepsCompleted: 0,
        crashes: 0,
      };
    };
    // Two writes of execution 0 (a record, then its completion) and two large completions.
    const results = await Promise.all([
      committer.submit({ ...write(0, "progress"), steps: [] }),
      committer.submit(write(0, "complete")),
      committer.submit(write(1, "complete")),
      committer.submit(write(2, "complete")),
    ]);
    assert.deepEqual(results, [true, true, true, true]);
    assert.deepEqual(
      sizes,
      [2, 2],
      "500-character outputs, 1,600 per batch: the third completion and the second write of execution 0 wait for the next",
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
