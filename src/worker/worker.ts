/**
 * The claim loop. It claims as many executions as it has free slots in one store call, runs each in
 * an {@link ExecutionRunner}, and claims again when a slot frees or a notice says work arrived. When
 * idle it sleeps until the earliest known wake-up (timer, backoff, lease expiry) or the slow safety
 * poll — never on a fast polling tick.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { TaskDefinition } from "../core/task.js";
import type { ClaimedExecution, ClaimRequest, Fence, Notice, Store } from "../store/store.js";
import { ExecutionRunner, type RunnerDeps } from "./execution-runner.js";
import type { FlushClaimer } from "./group-committer.js";
import type { HeldWrite, ParkedRun } from "./held-write.js";
import { LeaseKeeper } from "./lease-keeper.js";

/**
 * Parked runs remembered for an eager resume here (see Worker.takeParked). Each holds its steps' records;
 * a thousand bounds the memory while covering the waits a single process typically answers itself.
 */
const PARKED_RUNS_KEPT = 1000;
/** A parked run whose input and step results are longer than this is not remembered (64 MB at most in all). */
const PARKED_RUN_MAX_CHARS = 64 * 1024;

/** "auto" prefetch claims ahead only while runs average at most this long (see Worker.prefetch). */
const AUTO_PREFETCH_MAX_RUN_MS = 10;

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
  private readonly running = new Map<string, ExecutionRunner>();
  /**
   * Runs whose code is done and whose final write is committing. They no longer hold a slot: at W0 on
   * PostgreSQL (concurrency 10) a slot held until the completion commit spent most of its time waiting
   * for it. Up to `concurrency + prefetch` of them are free; beyond that they count against the slots, so a
   * slow store pushes back on new work instead of letting settling runs pile up. (With the bound at
   * `concurrency`, W0 at C=10 with prefetch 100 could not keep more than ~20 completions per flush:
   * `bench/src/probe-drain.ts` measured 5,345 executions/s, and 8,148 / 8,601 with this bound.)
   */
  private readonly settling = new Map<string, ExecutionRunner>();
  /** Claimed, leased, not started yet (prefetch): they start as slots free, with no round trip. */
  private buffer: ClaimedExecution[] = [];
  private readonly taskNames: string[];
  private readonly leases: LeaseKeeper;
  private claiming: Promise<void> | null = null;
  /** Slots promised to eager starts whose insert is under way. */
  private reserved = 0;
  private readonly runnerDeps: RunnerDeps;
  /** Runs started before their first write committed (see held-write.ts). */
  private readonly unstored = new Set<string>();
  /** Runs this process parked on an event, as stored: an eager resume here can start from them. */
  private readonly parked = new Map<string, ParkedRun>();
  /** Rows being claimed right now: by the claim loop, and by claims folded into checkpoint flushes. */
  private claimingRows = 0;
  private bufferReleased = false;
  private wanted = false;
  /** A kick for freed slots is queued for the end of this turn (see slotFreed). */
  private kickQueued = false;
  /** Moving average of how long runs' code took (launch to settle), ms; unknown (no prefetch) at first. */
  private runMsAverage = Number.POSITIVE_INFINITY;
  /** Work may be claimable beyond what we hold: set by notices and full claims, cleared by short ones. */
  private mayHaveMore = true;
  /** Read the next wake-up time after the next short claim (start, safety poll, reconnect). */
  private refreshWake = true;
  private stopped = false;
  private wakeTimer: { at: number; cancel: () => void } | null = null;
  private unsubscribe: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: WorkerDeps) {
    this.taskNames = [...deps.tasks.keys()];
    this.runnerDeps = { ...deps.runnerDeps, onParked: (run) => this.rememberParked(run) };
    this.leases = new LeaseKeeper(
      deps.store,
      deps.clock,
      deps.logger,
      deps.options.leaseMs,
      () => [
        ...[...this.running.values(), ...this.settling.values()].map((r) => r.ctx.fence).filter((f) => !this.unstored.has(f.executionId)),
        ...this.buffer.map(fenceOf),
      ],
      (id) => this.lost(id),
    );
  }

  start(): void {
    this.unsubscribe = this.deps.store.subscribe((notice) => this.onNotice(notice));
    this.leases.start();
    this.poll();
  }

  /** A full look: claim what is due and re-read the next wake-up time (start, safety poll, reconnect). */
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
   * A slot freed. Claim again only if work may be waiting (a notice came while we were full, or the last
   * claim came back full): an empty claim after every finished execution cost a round trip that a real
   * new-work notice then queued behind (~1 ms of start latency on Postgres).
   */
  private slotFreed(): void {
    if (!this.mayHaveMore || this.kickQueued) return;
    // After the current turn: a flush that commits nine completions frees nine slots in one turn, and one
    // claim for all of them beats a claim of one followed by a claim of eight (W0 at C=10 without prefetch
    // made ~1,200 claims per 10,000 executions, most of them for one row). probe-drain.ts without prefetch,
    // alternating runs, kick now vs deferred: W0 C=10 2,789 / 2,722 vs 3,854 / 3,795 executions/s; C=50
    // 5,715 / 5,996 / 5,706 vs 6,918 / 8,071 / 7,722; W1 C=10 1,574 / 1,267 vs 1,594 / 1,430.
    this.kickQueued = true;
    setImmediate(() => {
      this.kickQueued = false;
      this.kick();
    });
  }

  private runClaimLoop(): void {
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = null;
      // A kick that landed while the loop was finishing must not be lost.
      if (this.wanted && !this.stopped) this.runClaimLoop();
    });
  }

  /**
   * Reserves a slot for an eager start; false when none is free (the execution then queues normally).
   * `behindBacklog`: also false while claimable work may be waiting (a notice not yet claimed, a full last
   * claim, a prefetch buffer), so a default eager start never overtakes older queued executions.
   */
  reserveSlot(behindBacklog: boolean): boolean {
    if (this.stopped || this.slotsInUse() >= this.deps.options.concurrency) return false;
    if (behindBacklog && (this.mayHaveMore || this.buffer.length > 0)) return false;
    this.reserved += 1;
    return true;
  }

  releaseSlot(): void {
    this.reserved -= 1;
    this.slotFreed();
  }

  /**
   * The end of this worker's run of `id` (code done and its last write committed or refused), or null
   * when no run of it is under way here.
   */
  runOf(id: string): Promise<void> | null {
    return (this.running.get(id) ?? this.settling.get(id))?.done ?? null;
  }

  /** Runs an execution this process claimed outside the claim loop (eager resume) in a reserved slot. */
  adopt(item: ClaimedExecution): void {
    this.reserved -= 1;
    this.launch(item);
  }

  /**
   * Runs an execution claimed for this worker with no slot reserved: an eager resume whose parked state
   * turned out stale. Its speculative run is being dropped, so the slot count overshoots by one briefly
   * rather than leaving a claimed execution unrun until its lease expires.
   */
  adoptClaimed(item: ClaimedExecution): void {
    this.launch(item);
  }

  /**
   * Runs, in a reserved slot, an execution whose first write is still held (see held-write.ts): an eager
   * start before its INSERT, an eager resume before its delivery.
   */
  adoptHeld<R>(write: HeldWrite<R>, run: ClaimedExecution): void {
    this.reserved -= 1;
    const id = run.execution.id;
    // No lease to renew before the first write (a renewal would find none and report the lease lost).
    this.unstored.add(id);
    void write.result.finally(() => this.unstored.delete(id)).catch(() => {});
    const runner = this.launch(run, write.wrap(this.runnerDeps));
    // Not ours after all: stop its code now rather than at its next ctx call (it may be awaiting
    // something of its own), so a run of the stored state can take its place (Engine.deliverToWorker).
    void write.owned.then((owned) => {
      if (!owned) runner?.abort("lease_lost");
    });
  }

  /**
   * The parked state of `id` if this process parked it on event `eventName`, nothing here ran it since, and
   * the wait has no schema (a payload to check first goes the usual way). Taken: at most one resume uses
   * it. Whether it is still current, the delivery's claim tells.
   */
  takeParked(id: string, eventName: string): ParkedRun | null {
    const parked = this.parked.get(id);
    if (!parked) return null;
    this.parked.delete(id);
    const wait = parked.steps.find((s) => s.name === eventName && s.kind === "event" && s.state === "waiting");
    return wait?.schemaJson === null ? parked : null;
  }

  /** Remembers a run parked on an event (bounded in count, the oldest going first, and in size). */
  private rememberParked(run: ParkedRun): void {
    let bytes = run.execution.dataJson.length;
    for (const step of run.steps) bytes += step.resultJson?.length ?? 0;
    if (bytes > PARKED_RUN_MAX_CHARS) return;
    this.parked.set(run.execution.id, run);
    if (this.parked.size > PARKED_RUNS_KEPT) this.parked.delete(this.parked.keys().next().value as string);
  }

  /** Stop claiming; let running executions finish within the grace period; release the rest. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wakeTimer?.cancel();
    await this.claiming;
    if (this.running.size > 0 || this.settling.size > 0) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const endGrace = new AbortController();
      const grace = this.deps.clock.sleep(this.deps.options.shutdownGraceMs, endGrace.signal).catch(() => {});
      await Promise.race([idle, grace]);
      endGrace.abort();
    }
    // Whatever is still running is told to stop; its runner releases the lease (requeue at once), so
    // another worker resumes it immediately instead of after the lease expires.
    for (const runner of this.running.values()) runner.abort("shutdown");
    await Promise.all([...[...this.running.values(), ...this.settling.values()].map((r) => r.done), this.releaseBuffer()]);
    this.leases.stop();
  }

  private onNotice(notice: Notice): void {
    switch (notice.kind) {
      case "runnable":
        if (!this.deps.tasks.has(notice.task)) return;
        if (notice.at > this.deps.clock.now()) {
          this.armWake(notice.at);
          return;
        }
        this.mayHaveMore = true;
        this.kick();
        return;
      case "cancelled":
        this.running.get(notice.executionId)?.abort("cancelled");
        this.dropBuffered(notice.executionId);
        return;
      case "reconnected":
        this.poll();
        return;
      case "terminal":
        return;
    }
  }

  private async claimLoop(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      const room = this.claimRoom();
      if (room === 0) return;
      this.claimingRows += room;
      const claimed = await this.claimBatch(room).finally(() => {
        this.claimingRows -= room;
      });
      if (claimed === null) return;
      this.buffer.push(...claimed);
      this.startBuffered();
      // A full batch means there may be more; a short one means the queue is drained for now.
      this.mayHaveMore = claimed.length === room;
      if (this.mayHaveMore) this.wanted = true;
      else if (this.refreshWake) {
        this.refreshWake = false;
        await this.armNextWake();
      }
    }
  }

  private async claimBatch(limit: number): Promise<ClaimedExecution[] | null> {
    const { store, clock, workerId, options } = this.deps;
    const started = clock.now();
    try {
      const claimed = await store.claim({ workerId, tasks: this.taskNames, limit, now: clock.now(), leaseMs: options.leaseMs });
      this.deps.onClaim?.(claimed.length, clock.now() - started);
      return claimed;
    } catch (error) {
      this.deps.logger.error({ err: error }, "claim failed; retrying after a pause");
      this.armWake(clock.now() + 1000);
      return null;
    }
  }

  private launch(item: ClaimedExecution, runnerDeps: RunnerDeps = this.runnerDeps): ExecutionRunner | null {
    const task = this.deps.tasks.get(item.execution.task);
    if (!task) return null; // cannot happen: claims are filtered by our task names
    const id = item.execution.id;
    const launchedAt = this.deps.clock.now();
    this.parked.delete(id);
    const runner = new ExecutionRunner(item, task, runnerDeps, (settling) => this.settle(settling, launchedAt));
    this.deps.onLaunch?.(task.name);
    this.running.set(id, runner);
    void runner.done.then(() => {
      // Only this runner's entries: a run of the same execution may have replaced it (a stale eager resume).
      const held = this.running.get(id) === runner && this.running.delete(id);
      if (this.settling.get(id) === runner) this.settling.delete(id);
      if (this.running.size === 0 && this.settling.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      if (held || this.settling.size >= this.settlingFree()) this.released();
    });
    return runner;
  }

  /**
   * The run's code is done; its slot goes to the next execution while the final write commits. No claim
   * is started here: the flush that carries that final write claims for the free slots (foldClaim).
   */
  private settle(runner: ExecutionRunner, launchedAt: number): void {
    const id = runner.ctx.executionId;
    // Not (or no longer) the tracked run of `id`: one settling inside its constructor (already past its
    // deadline) is not in the map yet, and one replaced by a stale eager resume's successor is not any more.
    if (this.running.get(id) !== runner) return;
    this.running.delete(id);
    this.settling.set(id, runner);
    this.recordRunTime(this.deps.clock.now() - launchedAt);
    if (!this.stopped) this.startBuffered();
  }

  /** FlushClaimer: claim for the free slots with the next checkpoint flush (one round trip for both). */
  foldClaim(): ClaimRequest | null {
    if (this.stopped || !this.mayHaveMore) return null;
    const limit = this.claimRoom();
    if (limit === 0) return null;
    this.claimingRows += limit;
    return { workerId: this.deps.workerId, tasks: this.taskNames, limit, now: this.deps.clock.now(), leaseMs: this.deps.options.leaseMs };
  }

  folded(request: ClaimRequest, claimed: ClaimedExecution[] | null, moreFlushes: boolean): void {
    this.claimingRows -= request.limit;
    if (claimed === null) {
      this.kick();
      return;
    }
    this.deps.onClaim?.(claimed.length, 0);
    if (this.bufferReleased) {
      // Shutdown already handed the buffer back: hand these back the same way.
      this.buffer.push(...claimed);
      void this.releaseBuffer();
      return;
    }
    this.buffer.push(...claimed);
    this.startBuffered();
    this.mayHaveMore = claimed.length === request.limit;
    // A full claim: more may be waiting. With another flush coming, its folded claim takes the slots that
    // free meanwhile; claiming now would mostly be a round trip for a row or two (W0 at C=50 without
    // prefetch: 0.19 -> 0.12 transactions per execution).
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

  /** Folds one run's code time (launch to settle) into the moving average that sizes "auto" prefetch. */
  private recordRunTime(ms: number): void {
    this.runMsAverage = Number.isFinite(this.runMsAverage) ? this.runMsAverage * 0.9 + ms * 0.1 : ms;
  }

  /**
   * The prefetch in force. "auto": about AUTO_PREFETCH_MAX_RUN_MS of work at the recent average run time
   * (at least `concurrency`, at most max(concurrency, 100) rows), and none once runs average longer, so a
   * buffered execution waits milliseconds, not minutes. Why: without it W0 at C=10 on PostgreSQL went in
   * lockstep, ten completions and a claim of ten per round trip (3,767/s in the full benchmark, 0.55x
   * graphile-worker's batched mode); claiming ahead keeps the next rows ready while a flush commits.
   */
  private prefetch(): number {
    const { prefetch, concurrency } = this.deps.options;
    if (prefetch !== "auto") return prefetch;
    if (!(this.runMsAverage <= AUTO_PREFETCH_MAX_RUN_MS)) return 0;
    const rows = Math.floor((concurrency * AUTO_PREFETCH_MAX_RUN_MS) / Math.max(this.runMsAverage, 0.1));
    return Math.min(Math.max(rows, concurrency), Math.max(concurrency, 100));
  }

  /** How many rows a claim may take now: free slots plus prefetch room, counting claims under way. */
  private claimRoom(): number {
    const { concurrency } = this.deps.options;
    const prefetch = this.prefetch();
    const room = concurrency + prefetch - this.slotsInUse() - this.buffer.length - this.claimingRows;
    const slotFree = this.slotsInUse() + this.claimingRows < concurrency;
    // With every slot busy, refill the prefetch buffer only once it is half empty (fewer, larger claims).
    if (room <= 0 || (!slotFree && room < Math.ceil(prefetch / 2))) return 0;
    return room;
  }

  private slotsInUse(): number {
    return this.running.size + this.reserved + Math.max(0, this.settling.size - this.settlingFree());
  }

  /** How many settling runs hold no slot (see `settling`). */
  private settlingFree(): number {
    return this.deps.options.concurrency + this.prefetch();
  }

  private lost(executionId: string): void {
    this.running.get(executionId)?.abort("lease_lost");
    this.dropBuffered(executionId);
  }

  /** Starts buffered executions while slots are free. */
  private startBuffered(): void {
    while (this.buffer.length > 0 && this.slotsInUse() < this.deps.options.concurrency) {
      const next = this.buffer.shift();
      if (next) this.launch(next);
    }
  }

  private dropBuffered(executionId: string): void {
    this.buffer = this.buffer.filter((item) => item.execution.id !== executionId);
  }

  /** On shutdown, hands prefetched executions back at once (pending, runnable now) for other workers. */
  private async releaseBuffer(): Promise<void> {
    this.bufferReleased = true;
    const items = this.buffer;
    this.buffer = [];
    const { clock, runnerDeps } = this.deps;
    await Promise.all(
      items.map((item) =>
        runnerDeps.commit({
          fence: fenceOf(item),
          now: clock.now(),
          execution: { status: "requeue", runAt: clock.now() },
        }),
      ),
    );
  }

  private async armNextWake(): Promise<void> {
    try {
      const next = await this.deps.store.nextWakeAt(this.taskNames);
      this.armWake(next ?? Number.POSITIVE_INFINITY);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not read the next wake-up time");
      this.armWake(this.deps.clock.now() + 1000);
    }
  }

  /** Keeps one timer, for the earliest of the requested time and the safety poll. */
  private armWake(due: number): void {
    if (this.stopped) return;
    const { clock, options } = this.deps;
    let at = due;
    if (at <= clock.now()) {
      // Already due (e.g. learned after the time passed): claim now rather than through a zero-delay timer,
      // which a manual clock would only fire at its next advance. The safety poll stays armed below.
      this.mayHaveMore = true;
      this.kick();
      at = Number.POSITIVE_INFINITY;
    }
    const target = Math.min(at, clock.now() + options.safetyPollMs);
    if (this.wakeTimer && this.wakeTimer.at <= target && this.wakeTimer.at > clock.now()) return;
    this.wakeTimer?.cancel();
    const isSafetyPoll = target < at;
    const cancel = clock.setTimer(Math.max(0, target - clock.now()), () => {
      this.wakeTimer = null;
      if (isSafetyPoll) this.poll();
      else {
        this.mayHaveMore = true;
        this.kick();
      }
      // Re-arm the safety poll even when the pass finds nothing.
      if (!this.wakeTimer) this.armWake(Number.POSITIVE_INFINITY);
    });
    this.wakeTimer = { at: target, cancel };
  }
}

function fenceOf(item: ClaimedExecution): Fence {
  return { executionId: item.execution.id, leaseToken: item.execution.leaseToken };
}
