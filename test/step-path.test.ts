/**
 * The step's path makes only what a step needs: the run's AbortSignal only when a step function reads it,
 * and a progress write only when no other write of the run goes first in the same turn
 * (docs/decisions/022-consolidation-speed.md, "The step's path allocates less").
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setImmediate as turnEnd } from "node:timers/promises";
import { ManualClock } from "../src/core/clock.js";
import { openStore } from "../src/store/open-store.js";
import type { Checkpoint } from "../src/store/store.js";
import { RecordWriter } from "../src/worker/record-writer.js";
import { ReplayRecords } from "../src/worker/replay-records.js";
import { RunAbort } from "../src/worker/run-abort.js";
import { runAttempt } from "../src/worker/run-attempt.js";
import { stepRecord } from "./support/store-fixtures.js";

/** The run's abort, counting how often its signal is asked for. */
class CountingStop extends RunAbort {
  reads = 0;
  override get signal(): AbortSignal {
    this.reads += 1;
    return super.signal;
  }
}

const untimed = (stop: RunAbort) => ({ stop, clock: new ManualClock(), timeoutMs: null, step: "s" });

test("an untimed step makes the run's signal only if its function reads it, and still stops on the abort", async () => {
  const stop = new CountingStop();
  assert.equal(
    runAttempt(() => 41 + 1, untimed(stop)),
    42,
    "a synchronous value comes back as itself",
  );
  assert.equal(stop.reads, 0);
  assert.equal(
    runAttempt((source) => source.signal.aborted, untimed(stop)),
    false,
  );
  assert.equal(stop.reads, 1, "read by the function that asked");

  const quiet = new CountingStop();
  const hanging = runAttempt(() => new Promise<never>(() => {}), untimed(quiet));
  quiet.abort("cancelled");
  await assert.rejects(Promise.resolve(hanging), (error) => error === quiet.reason);
  assert.equal(quiet.reads, 0, "the abort reached the attempt without the signal");
});

test("a progress write is made at the end of its turn, and not at all when a write of the run goes first", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-step-path-"));
  const store = await openStore(join(dir, "z.db"));
  try {
    await store.migrate();
    const clock = new ManualClock();
    const now = clock.now();
    await store.createExecution({ id: "exec-stppath0001", task: "t", dataJson: "{}", idempotencyKey: null, now });
    const { claimed } = await store.claim({ workerId: "w", tasks: ["t"], limit: 1, now, leaseMs: 30_000 });
    const execution = claimed[0]?.execution;
    assert.ok(execution);
    const writes: string[] = [];
    const describe = (kind: string, c: Checkpoint) =>
      `${kind} ${c.patch.transition === "progress" ? (c.patch.currentStep ?? "-") : c.patch.transition} +${(c.steps ?? []).map((s) => s.name).join(",")}`;
    const writer = new RecordWriter(
      execution,
      new ReplayRecords([]),
      {
        clock,
        commit: async (c) => {
          writes.push(describe("commit", c));
          return true;
        },
        commitProgress: (c) => writes.push(describe("progress", c)),
      },
      () => writes.push("lost"),
    );
    writer.progress("quick");
    writer.hold(stepRecord(execution.id, "quick"));
    await turnEnd();
    assert.deepEqual(writes, ["commit - +quick"], "the record's write says more: no progress write is made");
    writer.progress("slow");
    assert.deepEqual(writes.length, 1, "not before the end of the turn");
    await turnEnd();
    assert.deepEqual(writes.slice(1), ["progress slow +"]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
