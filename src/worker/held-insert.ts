/**
 * Eager start with the insert held for the run's first write. The worker starts running an execution it
 * schedules for itself before its row is written; the row's INSERT waits until the run's first write,
 * and at most until the end of the event-loop turn:
 *
 * - a run that ends in that turn without recording any step (it returned, or threw a final error) is
 *   inserted in its final state: one transaction instead of two (insert, then completion);
 * - anything else (the first step, a park, a requeue, a held record at the end of the turn) inserts the
 *   row born claimed first, exactly as before, and then writes as usual.
 *
 * What makes this safe: until the insert commits, only the workflow's deterministic code has run (no
 * step function starts before the row exists: `whenStored` is the context's first barrier), nothing was
 * acknowledged (`schedule()` answers with the insert's result), and a crash in between loses only code
 * that nobody saw run. An idempotency key already held means this run never owned anything: every write
 * of it answers "fenced out" and the run is dropped, as a lost lease would drop it.
 *
 * Measured (bench/src/probe-latency.ts w0, PostgreSQL, one at a time): start→completion p50 2.25 ms with
 * two commits; see the comment at Engine.insert for the figure with this.
 */
import type { ExecutionRecord } from "../core/types.js";
import type { Checkpoint, CreateResult, FinishedPatch, NewExecution, Store } from "../store/store.js";
import type { RunnerDeps } from "./execution-runner.js";

export class HeldInsert {
  /** The store's answer (created, or the holder of the idempotency key); rejects when the insert failed. */
  readonly result: Promise<CreateResult>;
  private settle!: { resolve: (result: CreateResult) => void; reject: (error: unknown) => void };
  private stored: Promise<boolean> | null = null;
  private isStored = false;

  constructor(
    private readonly store: Store,
    private readonly input: NewExecution & { claimFor: NonNullable<NewExecution["claimFor"]> },
  ) {
    this.result = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Held for the rest of this turn at most: schedule() waits for the insert, and a run that goes on
    // awaiting something outside ctx must not hold it longer.
    setImmediate(() => void this.submit());
  }

  /** The row exactly as the insert stores it born claimed: what the run starts from. */
  claimedRecord(): ExecutionRecord {
    const { id, task, dataJson, idempotencyKey, now, claimFor } = this.input;
    return {
      id,
      task,
      status: "running",
      dataJson,
      idempotencyKey,
      createdAt: now,
      updatedAt: now,
      startedAt: now,
      completedAt: null,
      outputJson: null,
      error: null,
      stepsCompleted: 0,
      currentStep: null,
      waitingForEvent: null,
      attempt: 1,
      runnableAt: now + claimFor.leaseMs,
      leaseToken: 1,
      leaseOwner: claimFor.workerId,
    };
  }

  /** The run's deps with every write ordered after the insert, and a final write folded into it. */
  wrap(deps: RunnerDeps): RunnerDeps {
    return {
      ...deps,
      whenStored: () => this.submit(),
      commit: (checkpoint) => {
        const finished = this.stored === null ? finishedBy(checkpoint) : null;
        if (finished) return this.submit(finished);
        if (this.isStored) return deps.commit(checkpoint);
        return this.submit().then((ok) => (ok ? deps.commit(checkpoint) : false));
      },
    };
  }

  /** Writes the row (once); true when this run owns it. */
  private submit(finished?: NewExecution["finished"]): Promise<boolean> {
    if (this.stored === null) {
      const inserting = this.store.createExecution(finished ? { ...this.input, finished } : this.input);
      inserting.then(this.settle.resolve, this.settle.reject);
      // A failed insert leaves nothing to write to: the run stops, and schedule() reports the error.
      this.stored = inserting.then(
        (result) => {
          this.isStored = result.created;
          return result.created;
        },
        () => false,
      );
    }
    return this.stored;
  }
}

/** A final write the insert can carry: completed or failed, with no step rows or attempts of its own. */
function finishedBy(checkpoint: Checkpoint): (FinishedPatch & { at: number }) | null {
  const patch = checkpoint.execution;
  if (patch.status !== "completed" && patch.status !== "failed") return null;
  if ((checkpoint.steps?.length ?? 0) > 0 || (checkpoint.attempts?.length ?? 0) > 0) return null;
  return { ...patch, at: checkpoint.now };
}
