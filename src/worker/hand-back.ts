/**
 * Leases this worker holds but will not run, handed back at once instead of left to expire: rows a claim
 * took whose answer was lost on the way (`unheld`), and the prefetch buffer on shutdown (`buffer`). Either
 * way another worker takes them within its wake-up latency rather than a lease period later.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Checkpoint, ClaimedExecution, Store } from "../store/store.js";
import type { Slots } from "./slots.js";

export interface HandBackDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  workerId: string;
  slots: Slots;
  commit(checkpoint: Checkpoint): Promise<boolean>;
  stopped(): boolean;
  /** A release was written (or given up): claims held back meanwhile may go. */
  released(): void;
}

export class HandBack {
  private releasing = false;
  /**
   * The release statement is under way. Claims wait until it is done: one sent meanwhile could commit
   * first, and the release would then give back the rows it just took while this worker runs them.
   */
  writing = false;
  /** Set once the buffer was handed back: rows claimed after that go back the same way. */
  bufferReleased = false;

  constructor(private readonly deps: HandBackDeps) {}

  /**
   * After a claim whose answer was lost, rows it may have taken are leased to this worker but held by
   * nobody: give them back (Store.releaseUnheld), retrying until the store answers.
   */
  async unheld(): Promise<void> {
    if (this.releasing) return;
    this.releasing = true;
    const { store, clock, logger, workerId, slots } = this.deps;
    try {
      for (let pause = 100; !this.deps.stopped(); pause = Math.min(pause * 2, 5000)) {
        // Another claim in flight may have taken rows not yet in hand: wait for it (fencing keeps either safe).
        if (slots.claimingRows > 0) {
          await clock.sleep(pause).catch(() => {});
          continue;
        }
        const held = [...slots.running.keys(), ...slots.settling.keys(), ...slots.buffer.map((b) => b.execution.id)];
        this.writing = true;
        try {
          const released = await store.releaseUnheld(workerId, held, clock.now());
          if (released > 0) logger.warn({ released }, "gave back executions a lost claim had leased to this worker");
          return;
        } catch {
          await clock.sleep(pause).catch(() => {});
        } finally {
          this.writing = false;
          this.deps.released();
        }
      }
    } finally {
      this.releasing = false;
    }
  }

  /** On shutdown, hands prefetched executions back (pending, runnable now) for other workers. */
  async buffer(): Promise<void> {
    this.bufferReleased = true;
    const items = this.deps.slots.buffer;
    this.deps.slots.buffer = [];
    await Promise.all(items.map((item) => this.deps.commit(releaseOf(item, this.deps.clock.now()))));
  }
}

function releaseOf(item: ClaimedExecution, now: number): Checkpoint {
  const { execution } = item;
  return {
    fence: { executionId: execution.id, leaseToken: execution.leaseToken },
    owner: {
      task: execution.task,
      parentId: execution.parentId,
      parentStep: execution.parentStep,
      concurrencyKey: execution.concurrencyKey,
      concurrencyLimit: execution.concurrencyLimit,
    },
    now,
    patch: { transition: "release", runAt: now },
    stepsCompleted: execution.stepsCompleted,
    crashes: execution.crashes,
  };
}
