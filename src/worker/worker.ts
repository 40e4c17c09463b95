/**
 * The claim loop. It claims as many executions as it has room for (slots.ts) in one store call, runs each
 * (run-launcher.ts), and claims again when a slot frees or a notice says work arrived. When idle
 * it sleeps until the earliest known wake-up or the slow safety poll (wake-timer.ts), never on a fast
 * polling tick. It also runs executions started outside the loop: eager starts and eager resumes, whose
 * first write may still be held (held-write.ts).
 *
 * Over 300 lines because the claim loop, the claims folded into checkpoint flushes and the eager paths'
 * slot reservations all read and change the same few fields (room, `mayHaveMore`, `wanted`, the buffer);
 * split apart, each would reach into the others' state. What stands alone is in its own module (slots,
 * wake timer, lease keeper, hand-back, run launcher, claim notices).
 */
import type { ClaimedExecution, ClaimRequest, ClaimResult, Fence, Notice } from "../store/store.js";
import { CancelCheck } from "./cancel-check.js";
import { ClaimNotices } from "./claim-notices.js";
import type { RunnerDeps } from "./execution-runner.js";
import type { FlushClaimer } from "./group-committer.js";
import { HandBack } from "./hand-back.js";
import type { HeldWrite } from "./held-write.js";
import { claimIsLate, keepLateResult, leaseStillHolds } from "./late-claims.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { ParkedRuns } from "./parked-runs.js";
import { RunLauncher } from "./run-launcher.js";
import { Slots } from "./slots.js";
import { WakeTimer } from "./wake-timer.js";
import type { WorkerDeps } from "./worker-deps.js";

export class Worker implements FlushClaimer {
  private readonly slots: Slots;
  private readonly taskNames: string[];
  private readonly leases: LeaseKeeper;
  private readonly wake: WakeTimer;
  private readonly parked = new ParkedRuns();
  private readonly runnerDeps: RunnerDeps;
  private readonly handBack: HandBack;
  private readonly cancelCheck: CancelCheck;
  private readonly runs: RunLauncher;
  /** Runs started before their first write committed (see held-write.ts): no lease to renew yet. */
  private readonly unstored = new Set<string>();
  private claiming: Promise<void> | null = null;
  private wanted = false;
  /** A kick for freed slots is queued for the end of this turn (see slotFreed). */
  private kickQueued = false;
  /** Work may be claimable beyond what we hold: set by notices and full claims, cleared by short ones. */
  private mayHaveMore = true;
  /** Whether a claim's short answer can mean that nothing is due (no notice came while it was out). */
  private readonly notices = new ClaimNotices();
  /** Read the next wake-up time after the next short claim (start, timer, safety poll, reconnect). */
  private refreshWake = true;
  private stopped = false;
  /** When the last claim ran (its `now`). */
  private lastClaimAt = Number.NEGATIVE_INFINITY;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: WorkerDeps) {
    this.taskNames = [...deps.tasks.keys()];
    this.slots = new Slots(deps.options.concurrency, deps.options.prefetch);
    this.cancelCheck = new CancelCheck(deps.store, deps.logger, this.slots.running);
    this.runnerDeps = {
      ...deps.runnerDeps,
      onParked: (run) => this.parked.remember(run),
      leaseHolds: (fence, takenUntil) => this.leases.holds(fence, takenUntil),
    };
    const { store, clock, logger, options } = deps;
    const { slots, parked, runnerDeps } = this;
    const stopped = (): boolean => this.stopped;
    this.runs = new RunLauncher({ ...deps, slots, parked, runnerDeps, stopped, freed: () => this.slotFreed() });
    this.wake = new WakeTimer(clock, options.safetyPollMs, () => this.poll());
    const fences = () => slots.fences(this.unstored);
    this.leases = new LeaseKeeper(store, clock, logger, options.leaseMs, fences, (fence) => this.lost(fence));
    this.handBack = new HandBack({ ...deps, commit: runnerDeps.commit, slots, stopped, released: () => this.kick() });
  }

  start(): void {
    this.unsubscribe = this.deps.store.subscribe((notice) => this.onNotice(notice));
    this.leases.start();
    this.poll();
  }

  /** Executions running or settling here now (for heartbeats and metrics). */
  runningCount(): number {
    return this.slots.running.size;
  }

  /**
   * A full look: claim what is due and re-read the next wake-up time. On start, on every timer (the timer
   * only remembers the earliest due time, so later ones are re-read), on the safety poll and on reconnect.
   */
  private poll(): void {
    this.mayHaveMore = true;
    this.refreshWake = true;
    this.kick();
  }

  /** Asks for a claim pass soon (coalesced: at most one in flight, one more queued). */
  kick(): void {
    if (this.stopped) return;
    this.wanted = true;
    if (!this.claiming) this.runClaimLoop();
  }

  /**
   * A slot freed. Claim again only if work may be waiting, and after the current turn: a flush that commits
   * nine completions frees nine slots in one turn, and one claim for all of them beats nine.
   */
  private slotFreed(): void {
    if (!this.mayHaveMore || this.kickQueued) return;
    this.kickQueued = true;
    setImmediate(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  private runClaimLoop(): void {
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = null;
      // A kick that landed while the loop was finishing must not be lost; one held back by a release
      // under way is sent by the release's end.
      if (this.wanted && !this.stopped && !this.handBack.writing) this.runClaimLoop();
    });
  }

  /**
   * Reserves a slot for an eager start; false when none is free (the execution then queues normally).
   * `behindBacklog`: also false while claimable work may be waiting, so a default eager start never
   * overtakes older queued executions.
   */
  reserveSlot(behindBacklog: boolean): boolean {
    if (this.stopped || !this.slots.hasFree()) return false;
    if (behindBacklog && (this.mayHaveMore || this.slots.buffer.length > 0)) return false;
    this.slots.reserved += 1;
    return true;
  }

  releaseSlot(): void {
    this.slots.reserved -= 1;
    this.slotFreed();
  }

  /** The end of this worker's run of `id` (code done and last write answered), or null when none is under way. */
  runOf(id: string): Promise<void> | null {
    return (this.slots.running.get(id) ?? this.slots.settling.get(id))?.done ?? null;
  }

  /** Runs an execution claimed outside the loop: in a reserved slot, or (`reserved` false) over the count briefly. */
  adopt(item: ClaimedExecution, reserved = true): void {
    if (reserved) this.slots.reserved -= 1;
    this.runs.launch(item);
  }

  /** Runs, in a reserved slot, an execution whose first write is still held (eager start or resume). */
  adoptHeld<R>(write: HeldWrite<R>, run: ClaimedExecution): void {
    this.slots.reserved -= 1;
    const id = run.execution.id;
    this.unstored.add(id);
    void write.result.finally(() => this.unstored.delete(id)).catch(() => {});
    const runner = this.runs.launch(run, write.wrap(this.runnerDeps));
    // Not ours after all: stop its code now rather than at its next ctx call, so a run of the stored state
    // can take its place.
    void write.owned.then((owned) => {
      if (!owned) runner?.abort("lease_lost");
    });
  }

  /** See ParkedRuns.take. */
  takeParked(id: string, eventName: string): ClaimedExecution | null {
    return this.parked.take(id, eventName);
  }

  /** Stop claiming; let running executions finish within the grace period; release the rest. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake.stop();
    await this.claiming;
    await this.runs.idleWithin(this.deps.options.shutdownGraceMs);
    // Whatever still runs is told to stop; its runner releases the lease (requeue at once), so another
    // worker resumes it immediately instead of after the lease expires.
    for (const runner of this.slots.running.values()) runner.abort("shutdown");
    await Promise.all([...this.slots.runs().map((r) => r.done), this.handBack.buffer()]);
    this.leases.stop();
  }

  private onNotice(notice: Notice): void {
    if (notice.kind === "runnable" && this.deps.tasks.has(notice.task)) {
      if (notice.at > this.deps.clock.now()) this.wake.arm(notice.at);
      else {
        this.notices.noted();
        this.mayHaveMore = true;
        this.kick();
      }
    } else if (notice.kind === "cancelled") {
      this.slots.running.get(notice.executionId)?.abort("cancelled");
      this.slots.dropBuffered(notice.executionId);
    } else if (notice.kind === "reconnected") this.poll();
    else if (notice.kind === "changed") {
      this.poll();
      void this.cancelCheck.run();
    }
  }

  private async claimLoop(): Promise<void> {
    while (this.wanted && !this.stopped) {
      // Kept wanted: the release's end kicks the loop again (see HandBack.writing).
      if (this.handBack.writing) return;
      this.wanted = false;
      const room = this.slots.claimRoom();
      if (room === 0) return;
      this.slots.claimingRows += room;
      const sent = this.notices.mark();
      const result = await this.claimBatch(room).finally(() => {
        this.slots.claimingRows -= room;
      });
      if (result === null) return;
      this.slots.buffer.push(...result.claimed);
      const rearm = this.took(result, room, this.notices.since(sent));
      if (this.mayHaveMore) this.wanted = true;
      else if (rearm !== undefined) await rearm;
    }
  }

  /**
   * Starts what a claim for `limit` rows brought. A full claim (or rows left for a later one) means there
   * may be more; a short one drained what is due, and the next wake-up time is read if asked (`refreshWake`).
   */
  private took(result: ClaimResult, limit: number, noticedSince: boolean): Promise<void> | undefined {
    this.runs.startBuffered();
    // A notice that came while the claim was out may name a row the claim's snapshot did not see.
    this.mayHaveMore = result.claimed.length === limit || result.more || noticedSince;
    if (this.mayHaveMore || !this.refreshWake) return undefined;
    this.refreshWake = false;
    return this.armNextWake();
  }

  private async claimBatch(limit: number): Promise<ClaimResult | null> {
    const { store, clock, workerId, options } = this.deps;
    const started = clock.now();
    this.lastClaimAt = started;
    try {
      const result = await store.claim({ workerId, tasks: this.taskNames, limit, now: started, leaseMs: options.leaseMs });
      this.deps.onClaim?.(result.claimed.length, clock.now() - started);
      return claimIsLate(clock, started, options.leaseMs)
        ? await keepLateResult({ ...this.deps, leaseMs: options.leaseMs }, started, result)
        : result;
    } catch (error) {
      this.deps.logger.error({ err: error }, "claim failed; retrying after a pause");
      this.wake.arm(clock.now() + 1000);
      void this.handBack.unheld();
      return null;
    }
  }

  /** FlushClaimer: claim for the free slots with the next checkpoint flush (one round trip for both). */
  foldClaim(): ClaimRequest | null {
    if (this.stopped || !this.mayHaveMore || this.handBack.writing) return null;
    const limit = this.slots.claimRoom();
    if (limit === 0) return null;
    this.slots.claimingRows += limit;
    const request = {
      workerId: this.deps.workerId,
      tasks: this.taskNames,
      limit,
      now: this.deps.clock.now(),
      leaseMs: this.deps.options.leaseMs,
    };
    this.notices.markFolded(request);
    return request;
  }

  /** See leaseStillHolds (late-claims.ts). */
  leaseHolds(sentAt: number, run: ClaimedExecution): boolean | Promise<boolean> {
    return leaseStillHolds({ ...this.deps, leaseMs: this.deps.options.leaseMs }, sentAt, run);
  }

  folded(request: ClaimRequest, result: ClaimResult | null, moreFlushes: boolean): void {
    const { leaseMs } = this.deps.options;
    if (result !== null && result.claimed.length > 0 && claimIsLate(this.deps.clock, request.now, leaseMs)) {
      // The claim's rows keep their room (claimingRows) until the renewal says which are still ours.
      void keepLateResult({ ...this.deps, leaseMs }, request.now, result).then((kept) => {
        const again = { ...request, now: this.deps.clock.now() };
        this.notices.foldedMark(request, again);
        this.folded(again, kept, moreFlushes);
      });
      return;
    }
    this.slots.claimingRows -= request.limit;
    if (result === null) {
      void this.handBack.unheld();
      this.kick();
      return;
    }
    this.deps.onClaim?.(result.claimed.length, 0);
    this.slots.buffer.push(...result.claimed);
    if (this.handBack.bufferReleased) {
      // Shutdown already handed the buffer back: hand these back the same way.
      void this.handBack.buffer();
      return;
    }
    void this.took(result, request.limit, this.notices.since(this.notices.foldedMark(request)));
    // With another flush coming, its folded claim takes the slots that free meanwhile.
    if (this.mayHaveMore && !moreFlushes) this.kick();
  }

  /**
   * Only the run or buffered claim that holds `fence`: a renewal's answer can arrive after the execution was
   * claimed again here (a run that parked it for a short sleep was in the renewal), and the newer lease holds.
   */
  private lost(fence: Fence): void {
    const runner = this.slots.running.get(fence.executionId);
    if (runner?.fence.leaseToken === fence.leaseToken) runner.abort("lease_lost");
    this.slots.dropBuffered(fence.executionId, fence.leaseToken);
  }

  private async armNextWake(): Promise<void> {
    try {
      this.wake.armNext(await this.deps.store.nextWakeAt(this.taskNames), this.lastClaimAt);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not read the next wake-up time");
      this.wake.arm(this.deps.clock.now() + 1000);
    }
  }
}
