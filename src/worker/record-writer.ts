/**
 * How a run's records reach the store. A finished step's record is held until the end of the event-loop
 * turn it finished in, and the workflow continues meanwhile: the code between two steps is deterministic
 * (it replays), so nothing it does before the next step needs the record durable. If the execution's next
 * write comes in that turn - the next step's start, a park, its final write - the record rides along in
 * it; otherwise it commits on its own at the end of the turn. A crash before that commit re-runs the step,
 * exactly as a crash before its own commit would.
 *
 * Invariant: a step's function starts only after every record before it committed (`barrier`), so a
 * recorded step never runs again and no step ever runs on the result of one that is not recorded; and each
 * attempt starts only while the run's lease is known to hold (`leaseHolds`), so no step runs on a lease that
 * another worker may have taken.
 */
import type { Clock } from "../core/clock.js";
import type { AttemptRecord, ExecutionRecord, StepRecord } from "../core/types.js";
import type { Checkpoint, CheckpointOwner, Fence, NewExecution, WorkerPatch } from "../store/store.js";
import type { ReplayRecords } from "./replay-records.js";
import type { RunStop } from "./run-abort.js";

export interface WriterDeps {
  clock: Clock;
  /** Commits a checkpoint through the group committer; false when fenced out. */
  commit(checkpoint: Checkpoint): Promise<boolean>;
  /** A best-effort progress write (merged away when a later write of the execution supersedes it). */
  commitProgress(checkpoint: Checkpoint): void;
  /**
   * A run started before its first write (eager start or resume, see held-write.ts): sends that write if it
   * is still held; true once it made the run ours, false when it never will.
   */
  whenStored?(): Promise<boolean>;
  /**
   * Such a run tells how long it is still only replaying recorded outcomes (settle-order.ts): its first
   * write stays held meanwhile, since the replay's hops are deterministic code, not waiting on the world.
   */
  replaying?(busy: () => boolean): void;
  /**
   * Whether the run's lease, which the write that took it set to end at `takenUntil`, is known to hold for a
   * while yet (worker/lease-keeper.ts): true, or a promise of it after a renewal. Absent: always.
   */
  leaseHolds?(fence: Fence, takenUntil: number): true | Promise<boolean>;
}

interface Held {
  steps: StepRecord[];
  attempts: AttemptRecord[];
  children: NewExecution[];
  consumed: number[];
}

const empty = (): Held => ({ steps: [], attempts: [], children: [], consumed: [] });

export class RecordWriter {
  private held: Held = empty();
  private flushScheduled = false;
  /** A progress write to make at the end of this turn, unless another write of the run goes first. */
  private progressPending = false;
  private progressStep: string | null = null;
  /** The commit of the latest submitted records: the next step starts only after it (writes apply in order). */
  private lastFlush: Promise<void> | null = null;
  private readonly owner: CheckpointOwner;
  private readonly fence: Checkpoint["fence"];
  /** The end its claim gave the run's lease (renewals since are the worker's to know). */
  private readonly takenUntil: number;
  /** Crashed attempts not yet written as attempts of a step (see step-runner.ts). */
  private crashes: number;
  private crashesCharged = false;
  /** Buffered events this run took, over all its writes (each write subtracts its own from the row's count). */
  consumedInRun = 0;

  constructor(
    execution: ExecutionRecord,
    private readonly records: ReplayRecords,
    private readonly deps: WriterDeps,
    /** The write was fenced out or could not commit: the run must stop. */
    private readonly onLost: (error?: unknown) => void,
  ) {
    this.fence = { executionId: execution.id, leaseToken: execution.leaseToken };
    // A claimed row's runnable_at is its lease's end (the claim transition); unknown, the lease is checked.
    this.takenUntil = execution.runnableAt ?? Number.NEGATIVE_INFINITY;
    this.owner = {
      task: execution.task,
      parentId: execution.parentId,
      parentStep: execution.parentStep,
      concurrencyKey: execution.concurrencyKey,
      concurrencyLimit: execution.concurrencyLimit,
    };
    this.crashes = execution.crashes;
  }

  /**
   * The crashed attempts that `step`, about to run for real, is charged with: all of them if it is this
   * run's first step run for real (a replay runs for real first the step that was in flight when the
   * worker died: the one after the last recorded), 0 otherwise. They stay counted in the row until that
   * step's record carries them (`crashesAccounted`), so a crash before then adds to them.
   */
  chargeCrashes(): number {
    if (this.crashesCharged || this.crashes === 0) return 0;
    this.crashesCharged = true;
    return this.crashes;
  }

  /** The record (or retry wait) about to be held carries the charged crashes as attempts. */
  crashesAccounted(): void {
    this.crashes = 0;
  }

  /** Holds a record (and attempts) for the next write; it is submitted at the end of this turn at the latest. */
  hold(record: StepRecord, attempts: readonly AttemptRecord[] = []): void {
    this.records.set(record);
    this.held.steps.push(record);
    if (attempts.length > 0) this.held.attempts.push(...attempts);
    this.scheduleFlush();
  }

  /** Failed attempts of a step still in progress: written with the execution's next write, whatever it is. */
  holdAttempts(attempts: readonly AttemptRecord[]): void {
    this.held.attempts.push(...attempts);
  }

  /** Buffered events a wait took: deleted with the next write. */
  holdConsumed(eventId: number): void {
    this.held.consumed.push(eventId);
    this.consumedInRun += 1;
  }

  /** Resolves once every record so far has committed; throws (the run's abort reason) if it was lost. */
  async barrier(stop: Pick<RunStop, "reason">): Promise<void> {
    if (this.deps.whenStored && !(await this.deps.whenStored())) this.onLost();
    this.submit();
    await this.lastFlush;
    if (stop.reason !== null) throw stop.reason;
  }

  /**
   * Before a step function's attempt: true at once while the lease is known to hold, else a promise of
   * whether a renewal kept it. When it did not, the run is lost (aborted) and must not start the attempt:
   * another worker may have taken the execution and run that step while this process stood still.
   */
  leaseHolds(): true | Promise<boolean> {
    const holds = this.deps.leaseHolds?.(this.fence, this.takenUntil) ?? true;
    if (holds === true) return true;
    return holds.then((held) => {
      if (!held) this.onLost();
      return held;
    });
  }

  /**
   * Says which step runs now (best effort), at the end of this turn unless another write of the run goes
   * first: a step that finishes in the turn it started in (most do) has its record written instead, which
   * says more, so its progress write is never made.
   */
  progress(currentStep: string | null): void {
    this.progressStep = currentStep;
    this.progressPending = true;
    this.scheduleFlush();
  }

  /** Says which step runs now, and waits until that is durable (a recovered run: see ClaimedExecution.recovered). */
  async progressDurably(currentStep: string, stop: Pick<RunStop, "reason">): Promise<void> {
    const applied = await this.deps.commit(this.checkpoint({ transition: "progress", currentStep }, this.take()));
    if (!applied) this.onLost();
    if (stop.reason !== null) throw stop.reason;
  }

  /** Commits the held records with `children` inserted in the same transaction, and waits for it. */
  async commitWithChildren(children: NewExecution[], currentStep: string): Promise<boolean> {
    const held = this.take();
    held.children.push(...children);
    const applied = await this.deps.commit(this.checkpoint({ transition: "progress", currentStep }, held));
    if (!applied) this.onLost();
    return applied;
  }

  /**
   * The run's last write (completed, failed, parked, requeued), carrying everything still held: it
   * commits in the same transaction, in order before the patch.
   */
  final(patch: WorkerPatch, steps: readonly StepRecord[] = [], attempts: readonly AttemptRecord[] = []): Checkpoint {
    for (const step of steps) this.records.set(step);
    const held = this.take();
    held.steps.push(...steps);
    if (patch.transition === "park" || patch.transition === "complete") held.steps.push(...this.closeUnreachedWaits());
    held.attempts.push(...attempts);
    return this.checkpoint(patch, held);
  }

  /**
   * Event waits an earlier run opened that this run never reached, though its code parked (quiescent) or
   * returned: the code changed since (docs/versioning.md). They are closed, so an event sent to one is
   * refused (409) instead of acknowledged and never read; a closed wait that later code reaches again opens
   * anew. A run that failed, was retried, timed out or was released may have stopped before reaching them:
   * its waits stay as they are (a resume keeps their deadlines).
   */
  private closeUnreachedWaits(): StepRecord[] {
    const closed = this.records.unreachedWaits().map((record) => ({ ...record, state: "closed" as const }));
    for (const record of closed) this.records.set(record);
    return closed;
  }

  private checkpoint(patch: WorkerPatch, held: Held): Checkpoint {
    return {
      fence: this.fence,
      owner: this.owner,
      now: this.deps.clock.now(),
      patch,
      stepsCompleted: this.records.stepsCompleted,
      crashes: this.crashes,
      steps: held.steps,
      attempts: held.attempts,
      children: held.children.length > 0 ? held.children : undefined,
      consumedEvents: held.consumed.length > 0 ? held.consumed : undefined,
    };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushAtTurnEnd);
  }

  // The callbacks below are made once per run, not once per write: a run's every step passes through them.
  private readonly flushAtTurnEnd = (): void => {
    this.flushScheduled = false;
    this.submit();
    if (!this.progressPending) return;
    this.progressPending = false;
    this.deps.commitProgress(this.checkpoint({ transition: "progress", currentStep: this.progressStep }, empty()));
  };

  private readonly committed = (applied: boolean): void => {
    if (!applied) this.onLost();
  };

  private readonly failed = (error: unknown): void => {
    this.onLost(error);
  };

  /** Every write takes what is held; each also supersedes a progress write not yet made. */
  private take(): Held {
    this.progressPending = false;
    const held = this.held;
    this.held = empty();
    return held;
  }

  /** Submits the held records (if any). A write that is fenced out, or cannot commit, stops the run. */
  private submit(): void {
    if (this.held.steps.length === 0 && this.held.consumed.length === 0) return;
    const checkpoint = this.checkpoint({ transition: "progress", currentStep: null }, this.take());
    this.lastFlush = this.deps.commit(checkpoint).then(this.committed, this.failed);
  }
}
