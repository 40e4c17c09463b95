/**
 * Starting and resuming work where it already is. `schedule()` in a process whose worker runs the task,
 * with a slot free and no older queued work known, inserts the execution born claimed and runs it at once
 * (eager start); an event delivered in such a process claims the execution in the delivery (eager
 * resume). Either saves the notice hop and the claim round trip, and the first write is held for the run's
 * own first write (worker/held-write.ts). docs/engine.md, "Starting work"; measurements in
 * docs/decisions/007-eager-start-and-resume.md. Executions whose end or claim has consequences for other
 * rows (children, concurrency-limited ones), and delayed or prioritised ones, always take the ordinary path.
 */
import type { CreateResult, DeliverOutcome, DeliverRequest, NewExecution, Store } from "../store/store.js";
import { heldDelivery, heldInsert, resumedAsStored } from "../worker/held-write.js";
import type { Worker } from "../worker/worker.js";

export class EagerPaths {
  constructor(
    private readonly store: Store,
    private readonly worker: Worker,
    private readonly claimFor: { workerId: string; leaseMs: number },
    /** The tasks this process runs. */
    private readonly localTasks: readonly string[],
    private readonly eagerByDefault: boolean,
  ) {}

  /**
   * Inserts the execution, eagerly when asked (`eager`) or by default when a slot is free and nothing
   * older is queued. Eager inserts made together share a statement as queued ones do (both stores batch
   * them), so a burst starts here whatever slots it finds free
   * (docs/decisions/046-shared-eager-inserts.md; before it, docs/decisions/040-eager-start-over-http.md).
   */
  insert(input: NewExecution, eager: boolean | undefined): Promise<CreateResult> {
    // Delayed and prioritised executions go through a claim, which orders them (docs/priority-and-delay.md).
    const ordered = (input.startAt != null && input.startAt > input.now) || (input.priority ?? 0) !== 0;
    const wanted = (eager ?? this.eagerByDefault) && input.concurrency == null && input.parent == null && !ordered;
    if (!wanted || !this.localTasks.includes(input.task) || !this.worker.reserveSlot(eager === undefined)) {
      return this.store.createExecution(input);
    }
    const { write, run } = heldInsert(this.store, { ...input, claimFor: this.claimFor }, (held) => this.worker.leaseHolds(input.now, held));
    this.worker.adoptHeld(write, run);
    return write.result;
  }

  /**
   * A delivery that this worker's free slot resumes. When this process parked the execution (and the wait
   * has no schema to check first), the run resumes before the delivery is written, from the steps it
   * parked with, and a run that then ends without a step is written with the delivery in one transaction.
   */
  async deliver(request: DeliverRequest): Promise<DeliverOutcome> {
    if (!this.worker.reserveSlot(true)) return this.store.deliverEvent(request);
    const claimFor = { ...this.claimFor, tasks: this.localTasks };
    const parked = this.worker.takeParked(request.executionId, request.eventName);
    if (parked) {
      const { write, run } = heldDelivery(this.store, { ...request, claimFor }, parked, (held) =>
        this.worker.leaseHolds(request.now, held),
      );
      this.worker.adoptHeld(write, run);
      const result = await write.result;
      // Changed since it parked here (claimed and parked again elsewhere, or an event buffered for it): run
      // it from the stored steps and events.
      if (result.outcome === "delivered" && result.claimed && !resumedAsStored(run, result)) {
        await this.worker.runOf(request.executionId);
        this.worker.adopt(result.claimed, false);
      }
      return result;
    }
    let result: DeliverOutcome;
    try {
      result = await this.store.deliverEvent({ ...request, claimFor });
    } catch (error) {
      this.worker.releaseSlot();
      throw error;
    }
    const claimed = result.outcome === "delivered" && result.claimed ? result.claimed : null;
    if (claimed && (await this.worker.leaseHolds(request.now, claimed))) this.worker.adopt(claimed);
    else this.worker.releaseSlot();
    return result;
  }
}
