// Long file (over 300 lines) on purpose: the claim loop's flags (`wanted`, `mayHaveMore`, `refreshWake`,
// `kickQueued`) and its entry points (notices, freed slots, folded claims, eager adoptions) form one small
// state machine whose invariants must be read together. Slots, timers, leases, parked runs and hand-backs
// live apart.
/**
 * The claim loop. It claims as many executions as it has room for (slots.ts) in one store call, runs each
 * in an {@link ExecutionRunner}, and claims again when a slot frees or a notice says work arrived. When idle
 * it sleeps until the earliest known wake-up or the slow safety poll (wake-timer.ts), never on a fast
 * polling tick. It also runs executions started outside the loop: eager starts and eager resumes, whose
 * first write may still be held (held-write.ts).
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { TaskDefinition } from "../core/task.js";
import type { ClaimedExecution, ClaimRequest, ClaimResult, Fence, Notice, Store } from "../store/store.js";
import { ExecutionRunner, type RunnerDeps } from "./execution-runner.js";
import type { FlushClaimer } from "./group-committer.js";
import { HandBack } from "./hand-back.js";
import type { HeldWrite } from "./held-write.js";
import { claimIsLate, keepLateClaims } from "./late-claims.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { ParkedRuns } from "./parked-runs.js";
import { Slots } from "./slots.js";
import { WakeTimer } from "./wake-timer.js";

export interface ResolvedWorkerOptions {
  concurrency: number;
  /** Executions claimed beyond the free slots and held (under lease) in a local buffer. 0: none. */
  prefetch: number | "auto";
  /** schedule() without an explicit `eager` starts eagerly when it can (see WorkerOptions.eagerStart). */
  eagerStart: boolean;
  leaseMs: number;
  safetyPollMs: number;
  shutdownGraceMs: number;
}

export interface WorkerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  workerId: string;
  tasks: ReadonlyMap<string, TaskDefinition>;
  options: ResolvedWorkerOptions;
  runnerDeps: RunnerDeps;
  onClaim?(count: number, ms: number): void;
  onLaunch?(task: string): void;
}

export class Worker implements FlushClaimer {
  private readonly slots: Slots;
  private readonly taskNames: string[];
  private readonly leases: LeaseKeeper;
  private readonly wake: WakeTimer;
  private readonly parked = new ParkedRuns();
  private readonly runnerDeps: RunnerDeps;
  private readonly handBack: HandBack;
  /** Runs started before their first write committed (see held-write.ts): no lease to renew yet. */
  private readonly unstored = new Set<string>();
  private claiming: Promise<void> | null = null;
  private wanted = false;
  /** A kick for freed slots is queued for the end of this turn (see slotFreed). */
  private kickQueued = false;
  /** Work may be claimable beyond what we hold: set by notices and full claims, cleared by short ones. */
  private mayHaveMore = true;
  /** Read the next wake-up time after the next short claim (start, timer, safety poll, reconnect). */
  private refreshWake = true;
  private stopped = false;
  private checkingCancelled = false;
  /** When the last claim ran (its `now`). */
  private lastClaimAt = Number.NEGATIVE_INFINITY;
  private unsubscribe: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: WorkerDeps) {
    this.taskNames = [...deps.tasks.keys()];
    this.slots = new Slots(deps.options.concurrency, deps.options.prefetch);
    this.runnerDeps = { ...deps.runnerDeps, onParked: (run) => this.parked.remember(run) };
    this.wake = new WakeTimer(deps.clock, deps.options.safetyPollMs, () => this.poll());
    this.leases = new LeaseKeeper(
      deps.store,
      deps.clock,
      deps.logger,
      deps.options.leaseMs,
      () => this.heldFences(),
      (id) => this.lost(id),
    );
    const { store, clock, logger, workerId } = deps;
    const commit = deps.runnerDeps.commit;
    this.handBack = new HandBack({
      store,
      clock,
      logger,
      workerId,
      slots: this.slots,
      commit,
      stopped: () => this.stopped,
      released: () => this.kick(),
    });
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
    this.launch(item);
  }

  /** Runs, in a reserved slot, an execution whose first write is still held (eager start or resume). */
  adoptHeld<R>(write: HeldWrite<R>, run: ClaimedExecution): void {
    this.slots.reserved -= 1;
    const id = run.execution.id;
    this.unstored.add(id);
    void write.result.finally(() => this.unstored.delete(id)).catch(() => {});
    const runner = this.launch(run, write.wrap(this.runnerDeps));
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
    if (!this.slots.idle()) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const endGrace = new AbortController();
      const grace = this.deps.clock.sleep(this.deps.options.shutdownGraceMs, endGrace.signal).catch(() => {});
      await Promise.race([idle, grace]);
      endGrace.abort();
    }
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
        this.mayHaveMore = true;
        this.kick();
      }
    } else if (notice.kind === "cancelled") {
      this.slots.running.get(notice.executionId)?.abort("cancelled");
      this.slots.dropBuffered(notice.executionId);
    } else if (notice.kind === "reconnected") this.poll();
    else if (notice.kind === "changed") {
      this.poll();
      void this.checkCancelled();
    }
  }

  /**
   * Another process changed the store without saying what (SQLite): an execution running here may have
   * been cancelled there. One read of the statuses of the runs in progress; at most one at a time.
   */
  private async checkCancelled(): Promise<void> {
    if (this.checkingCancelled || this.slots.running.size === 0) return;
    this.checkingCancelled = true;
    try {
      const statuses = await this.deps.store.getStatuses([...this.slots.running.keys()]);
      for (const [id, status] of statuses) if (status === "cancelled") this.slots.running.get(id)?.abort("cancelled");
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not check for cancellations");
    } finally {
      this.checkingCancelled = false;
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
      const result = await this.claimBatch(room).finally(() => {
        this.slots.claimingRows -= room;
      });
      if (result === null) return;
      this.slots.buffer.push(...result.claimed);
      this.startBuffered();
      // A full batch (or rows left for a later claim) means there may be more; a short one, drained for now.
      this.mayHaveMore = result.claimed.length === room || result.more;
      if (this.mayHaveMore) this.wanted = true;
      else if (this.refreshWake) {
        this.refreshWake = false;
        await this.armNextWake();
      }
    }
  }

  private async claimBatch(limit: number): Promise<ClaimResult | null> {
    const { store, clock, workerId, options } = this.deps;
    const started = clock.now();
    this.lastClaimAt = started;
    try {
      const result = await store.claim({ workerId, tasks: this.taskNames, limit, now: started, leaseMs: options.leaseMs });
      this.deps.onClaim?.(result.claimed.length, clock.now() - started);
      if (!claimIsLate(clock, started, options.leaseMs)) return result;
      const kept = await keepLateClaims({ ...this.deps, leaseMs: options.leaseMs }, started, result.claimed);
      // Rows left behind are still due (their lease lapsed): there is more to claim.
      return { claimed: kept, more: result.more || kept.length < result.claimed.length };
    } catch (error) {
      this.deps.logger.error({ err: error }, "claim failed; retrying after a pause");
      this.wake.arm(clock.now() + 1000);
      void this.handBack.unheld();
      return null;
    }
  }

  private launch(item: ClaimedExecution, runnerDeps: RunnerDeps = this.runnerDeps): ExecutionRunner | null {
    const task = this.deps.tasks.get(item.execution.task);
    if (!task) return null; // cannot happen: claims are filtered by our task names
    const id = item.execution.id;
    const launchedAt = this.deps.clock.now();
    this.parked.forget(id);
    const runner = new ExecutionRunner(item, task, runnerDeps, (settling) => this.settle(settling, launchedAt));
    this.deps.onLaunch?.(task.name);
    this.slots.running.set(id, runner);
    void runner.done.then(() => {
      // Only this runner's entries: a run of the same execution may have replaced it (a stale eager resume).
      const held = this.slots.running.get(id) === runner && this.slots.running.delete(id);
      if (this.slots.settling.get(id) === runner) this.slots.settling.delete(id);
      if (this.slots.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
      // A suspect's end, or the end that leaves the worker idle for one waiting, lets the buffer move on.
      const unblocks = this.slots.ended(id) || (this.slots.idle() && this.slots.quarantined());
      if (held || unblocks || this.slots.settling.size >= this.slots.settlingFree()) this.released();
    });
    return runner;
  }

  /** The run's code is done; its slot goes to the next execution while the final write commits. */
  private settle(runner: ExecutionRunner, launchedAt: number): void {
    const id = runner.ctx.executionId;
    // Not (or no longer) the tracked run of `id`: one settling inside its constructor is not in the map yet,
    // and one replaced by a stale eager resume's successor is not any more.
    if (this.slots.running.get(id) !== runner) return;
    this.slots.running.delete(id);
    this.slots.settling.set(id, runner);
    this.slots.recordRunTime(this.deps.clock.now() - launchedAt);
    if (!this.stopped) this.startBuffered();
  }

  /** FlushClaimer: claim for the free slots with the next checkpoint flush (one round trip for both). */
  foldClaim(): ClaimRequest | null {
    if (this.stopped || !this.mayHaveMore || this.handBack.writing) return null;
    const limit = this.slots.claimRoom();
    if (limit === 0) return null;
    this.slots.claimingRows += limit;
    return { workerId: this.deps.workerId, tasks: this.taskNames, limit, now: this.deps.clock.now(), leaseMs: this.deps.options.leaseMs };
  }

  /**
   * Whether a lease taken by a write sent at `sentAt` (an eager start's insert, a delivery that claimed)
   * still holds: at once when the write came back in time, else after renewing it (late-claims.ts).
   */
  leaseHolds(sentAt: number, run: ClaimedExecution): boolean | Promise<boolean> {
    const { leaseMs } = this.deps.options;
    if (!claimIsLate(this.deps.clock, sentAt, leaseMs)) return true;
    return keepLateClaims({ ...this.deps, leaseMs }, sentAt, [run]).then((kept) => kept.length === 1);
  }

  folded(request: ClaimRequest, result: ClaimResult | null, moreFlushes: boolean): void {
    const { leaseMs } = this.deps.options;
    if (result !== null && result.claimed.length > 0 && claimIsLate(this.deps.clock, request.now, leaseMs)) {
      // The claim's rows keep their room (claimingRows) until the renewal says which are still ours.
      void keepLateClaims({ ...this.deps, leaseMs }, request.now, result.claimed).then((kept) =>
        this.folded(
          { ...request, now: this.deps.clock.now() },
          { claimed: kept, more: result.more || kept.length < result.claimed.length },
          moreFlushes,
        ),
      );
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
    this.startBuffered();
    this.mayHaveMore = result.claimed.length === request.limit || result.more;
    // With another flush coming, its folded claim takes the slots that free meanwhile.
    if (this.mayHaveMore && !moreFlushes) this.kick();
    else if (!this.mayHaveMore && this.refreshWake) {
      this.refreshWake = false;
      void this.armNextWake();
    }
  }

  private released(): void {
    if (!this.stopped) this.startBuffered();
    this.slotFreed();
  }

  private lost(executionId: string): void {
    this.slots.running.get(executionId)?.abort("lease_lost");
    this.slots.dropBuffered(executionId);
  }

  private startBuffered(): void {
    for (let next = this.slots.nextBuffered(); next; next = this.slots.nextBuffered()) this.launch(next);
  }

  /** Every lease this worker holds and can renew: runs and settling runs whose row exists, and the buffer. */
  private heldFences(): Fence[] {
    const fences: Fence[] = [];
    for (const runner of this.slots.runs()) if (!this.unstored.has(runner.ctx.executionId)) fences.push(runner.fence);
    for (const item of this.slots.buffer) fences.push({ executionId: item.execution.id, leaseToken: item.execution.leaseToken });
    return fences;
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
