/**
 * A run started before the write that makes it this worker's: an eager start before its row's INSERT, an
 * eager resume before its event delivery. That first write is held for the run's own first write, and at
 * most until the end of the event-loop turn:
 *
 * - a run that ends in that turn without recording any step (it returned, or failed for good) is written in
 *   its final state with that first write: one transaction instead of two;
 * - anything else (the first step, a park, a requeue, a held record at the end of the turn) sends the first
 *   write alone, and the run's writes follow it as usual.
 *
 * What makes this safe: until the first write commits, only the workflow's deterministic code has run (no
 * step function starts before it: `whenStored` is the context's first barrier), nothing was acknowledged
 * (`schedule()` and `deliverEvent()` answer with the first write's result), and a crash in between loses
 * only code that nobody saw run. When the first write does not make the run ours (an idempotency key
 * already held; a delivery that finds the execution changed since it parked here), every write of the run
 * answers "fenced out" and it is dropped, as a lost lease drops a run.
 *
 * Why: docs/decisions/007-eager-start-and-resume.md (W0 and W3 latency on PostgreSQL).
 */
import { applyTransition } from "../state/apply.js";
import { COMPOSITES } from "../state/composites.js";
import { toExecution, toRow } from "../store/row-mapping.js";
import type {
  Checkpoint,
  ClaimedExecution,
  CreateResult,
  DeliverOutcome,
  DeliverRequest,
  Finished,
  NewExecution,
  Store,
} from "../store/store.js";
import { creationParams, withDelivery } from "../store/writes.js";
import type { RunnerDeps } from "./execution-runner.js";

export class HeldWrite<R> {
  /** The store's answer to the first write; rejects when it failed. */
  readonly result: Promise<R>;
  /**
   * Whether the answer made the run this worker's (false also when the write failed); settles with the
   * answer, and waiting for it does not send the write.
   */
  readonly owned: Promise<boolean>;
  private answer!: { resolve: (result: R) => void; reject: (error: unknown) => void };
  private sent = false;
  /** The first write carried the run's end: nothing of the run is left to protect with its lease. */
  private carriedEnd = false;
  private isOwned = false;
  private replaying: () => boolean = () => false;

  constructor(
    /** Sends the first write, carrying the run's final state when it ended first. */
    private readonly send: (finished: Finished | undefined) => Promise<R>,
    /** Whether the answer makes the run this worker's (and, when `finished` was sent, ended it). */
    owns: (result: R) => boolean,
    /**
     * Asked once the answer made the run ours: is its lease still good? A first write that came back late
     * holds a lease that began when it was sent (worker/late-claims.ts).
     */
    leaseHolds: () => boolean | Promise<boolean> = () => true,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.answer = { resolve, reject };
    });
    // A failed write leaves the run nothing to write to: it stops, and the caller reports the error.
    this.owned = this.result.then(
      async (result) => {
        this.isOwned = owns(result) && (this.carriedEnd || (await leaseHolds()));
        return this.isOwned;
      },
      () => false,
    );
    // Held for the rest of this turn at most, and the turns the run spends settling recorded outcomes: the
    // caller waits for it, and a run that goes on awaiting something outside ctx must not hold it longer.
    const release = (): void => {
      if (this.sent) return;
      if (this.replaying()) setImmediate(release);
      else void this.submit();
    };
    setImmediate(release);
  }

  /** The run's deps with every write ordered after the first write, and a final write folded into it. */
  wrap(deps: RunnerDeps): RunnerDeps {
    return {
      ...deps,
      whenStored: () => this.submit(),
      replaying: (busy) => {
        this.replaying = busy;
      },
      commit: (checkpoint) => {
        const finished = this.sent ? null : finishedBy(checkpoint);
        if (finished) return this.submit(finished);
        if (this.isOwned) return deps.commit(checkpoint);
        return this.submit().then((owned) => (owned ? deps.commit(checkpoint) : false));
      },
    };
  }

  /** Sends the first write (once); resolves true when it made the run ours. */
  private submit(finished?: Finished): Promise<boolean> {
    if (!this.sent) {
      this.sent = true;
      this.carriedEnd = finished !== undefined;
      this.send(finished).then(this.answer.resolve, this.answer.reject);
    }
    return this.owned;
  }
}

/**
 * A final write the first write can carry: completed or failed, with nothing else to write (no records,
 * attempts, children or events), of an execution without consequences for other rows (no parent, no slot).
 */
function finishedBy(checkpoint: Checkpoint): Finished | null {
  const { patch, owner } = checkpoint;
  if (patch.transition !== "complete" && patch.transition !== "fail") return null;
  if ((checkpoint.steps?.length ?? 0) > 0 || (checkpoint.attempts?.length ?? 0) > 0 || checkpoint.children || checkpoint.consumedEvents)
    return null;
  if (owner.parentId !== null || owner.concurrencyLimit !== null) return null;
  const at = checkpoint.now;
  const { stepsCompleted } = checkpoint;
  return patch.transition === "complete"
    ? { transition: "complete", outputJson: patch.outputJson, at, stepsCompleted }
    : { transition: "fail", error: patch.error, at, stepsCompleted };
}

type ClaimFor = NonNullable<NewExecution["claimFor"]>;

/** Eager start: the INSERT of a row born claimed by this worker, or born finished. */
export function heldInsert(
  store: Store,
  input: NewExecution & { claimFor: ClaimFor },
  leaseHolds: (run: ClaimedExecution) => boolean | Promise<boolean>,
): { write: HeldWrite<CreateResult>; run: ClaimedExecution } {
  // Exactly the row the INSERT stores born claimed (`create_claimed`).
  const execution = toExecution(applyTransition(null, COMPOSITES.create_claimed, creationParams(input)));
  const run = { execution, steps: [], events: [], recovered: false };
  const write = new HeldWrite<CreateResult>(
    (finished) => store.createExecution(finished ? { ...input, finished } : input),
    (result) => result.created,
    () => leaseHolds(run),
  );
  return { write, run };
}

/**
 * Eager resume of a run this process parked: the delivery (claiming it for this worker) is held for the
 * resumed run's first write. The run is ours only if {@link resumedAsStored}.
 */
export function heldDelivery(
  store: Store,
  request: DeliverRequest & { claimFor: NonNullable<DeliverRequest["claimFor"]> },
  parked: ClaimedExecution,
  leaseHolds: (run: ClaimedExecution) => boolean | Promise<boolean>,
): { write: HeldWrite<DeliverOutcome>; run: ClaimedExecution } {
  const { now, claimFor, eventName, payloadJson } = request;
  const params = { now, worker: claimFor.workerId, lease_ms: claimFor.leaseMs };
  const execution = toExecution(applyTransition(toRow(parked.execution), COMPOSITES.deliver_claimed, params));
  const steps = withDelivery(parked.steps, { name: eventName, payloadJson, now }, execution.leaseToken);
  const run = { execution, steps, events: [], recovered: false };
  const write = new HeldWrite<DeliverOutcome>(
    (finished) => store.deliverEvent(finished ? { ...request, finishIfToken: { leaseToken: execution.leaseToken, finished } } : request),
    (outcome) => resumedAsStored(run, outcome),
    () => leaseHolds(run),
  );
  return { write, run };
}

/**
 * Whether a held delivery's claim found the execution as the resumed run took it: the token one above the
 * parked one (nobody claimed it since it parked, so its steps are the stored ones) and no buffered event
 * (the run resumed without any; one stored before the delivery committed, while the row still waited on
 * another event, set no wake request, so a run that then parked on it would wait for good). A run whose
 * end the delivery wrote (its token matched) needed no event it lacked.
 */
export function resumedAsStored(run: ClaimedExecution, outcome: DeliverOutcome): boolean {
  if (outcome.outcome !== "delivered" || !outcome.claimed) return false;
  if (outcome.claimed.execution.leaseToken !== run.execution.leaseToken) return false;
  return outcome.finished === true || outcome.claimed.events.length === 0;
}
