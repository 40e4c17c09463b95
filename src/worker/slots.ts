/**
 * A worker's capacity: runs in progress, runs settling (code done, final write committing), slots promised
 * to eager starts, and prefetched executions waiting in a local buffer. It decides how many rows a claim
 * may take, and how many to prefetch.
 *
 * Settling runs hold no slot, up to `concurrency + prefetch` of them: a slot held until the completion
 * commit spent most of its time waiting for it; beyond that bound they count again, so a slow store pushes
 * back on new work instead of letting settling runs pile up. "auto" prefetch claims ahead only while runs
 * are short. Why both: docs/decisions/003-prefetch-and-settling-slots.md.
 *
 * A suspect (an execution whose step was in flight when its worker died SUSPECT_CRASHES times) runs alone:
 * it starts once nothing else runs here, and nothing else starts or is claimed until it ends. A step that
 * kills its process (a poison step) then takes down only itself, and an execution that merely shared a
 * worker with one twice gets a worker to itself instead of being charged with every crash of its neighbour.
 */
import type { ClaimedExecution, Fence } from "../store/store.js";
import type { ExecutionRunner } from "./execution-runner.js";

/** "auto" prefetch claims ahead only while runs average at most this long. */
const AUTO_PREFETCH_MAX_RUN_MS = 10;

/**
 * Crashed attempts after which a recovered execution is a suspect. One crash is what every execution in
 * flight on a worker that was killed (a deploy, an OOM) gets, and those should recover side by side.
 */
export const SUSPECT_CRASHES = 2;

export function isSuspect(item: ClaimedExecution): boolean {
  return item.recovered && item.execution.crashes >= SUSPECT_CRASHES;
}

export class Slots {
  readonly running = new Map<string, ExecutionRunner>();
  readonly settling = new Map<string, ExecutionRunner>();
  /** Claimed, leased, not started yet (prefetch): they start as slots free, with no round trip. */
  buffer: ClaimedExecution[] = [];
  /** Slots promised to eager starts whose first write is under way. */
  reserved = 0;
  /** Rows being claimed right now: by the claim loop, and by claims folded into checkpoint flushes. */
  claimingRows = 0;
  /** Moving average of how long runs' code took (launch to settle), ms; unknown (no prefetch) at first. */
  private runMsAverage = Number.POSITIVE_INFINITY;
  /** The suspect running alone here, until its run has ended (settled included). */
  private alone: string | null = null;

  constructor(
    private readonly concurrency: number,
    private readonly prefetchOption: number | "auto",
  ) {}

  /** Folds one run's code time (launch to settle) into the moving average that sizes "auto" prefetch. */
  recordRunTime(ms: number): void {
    this.runMsAverage = Number.isFinite(this.runMsAverage) ? this.runMsAverage * 0.9 + ms * 0.1 : ms;
  }

  /**
   * The prefetch in force. "auto": about AUTO_PREFETCH_MAX_RUN_MS of work at the recent average run time
   * (at least `concurrency`, at most max(concurrency, 100) rows), and none once runs average longer, so a
   * buffered execution waits milliseconds, not minutes.
   */
  prefetch(): number {
    if (this.prefetchOption !== "auto") return this.prefetchOption;
    if (!(this.runMsAverage <= AUTO_PREFETCH_MAX_RUN_MS)) return 0;
    const rows = Math.floor((this.concurrency * AUTO_PREFETCH_MAX_RUN_MS) / Math.max(this.runMsAverage, 0.1));
    return Math.min(Math.max(rows, this.concurrency), Math.max(this.concurrency, 100));
  }

  /** How many rows a claim may take now: free slots plus prefetch room, counting claims under way. */
  claimRoom(): number {
    if (this.quarantined()) return 0;
    const prefetch = this.prefetch();
    const room = this.concurrency + prefetch - this.inUse() - this.buffer.length - this.claimingRows;
    const slotFree = this.inUse() + this.claimingRows < this.concurrency;
    // With every slot busy, refill the prefetch buffer only once it is half empty (fewer, larger claims).
    if (room <= 0 || (!slotFree && room < Math.ceil(prefetch / 2))) return 0;
    return room;
  }

  inUse(): number {
    return this.running.size + this.reserved + Math.max(0, this.settling.size - this.settlingFree());
  }

  /** A slot for an execution from outside the buffer (an eager start or resume). */
  hasFree(): boolean {
    return !this.quarantined() && this.inUse() < this.concurrency;
  }

  /** A suspect runs alone here, or waits in the buffer for its turn. */
  quarantined(): boolean {
    return this.alone !== null || this.buffer.some(isSuspect);
  }

  /** How many settling runs hold no slot. */
  settlingFree(): number {
    return this.concurrency + this.prefetch();
  }

  /**
   * The next buffered execution, when a slot is free, in claim order. A suspect at the head waits until
   * nothing runs here, then starts alone; the others behind it wait until it has ended.
   */
  nextBuffered(): ClaimedExecution | undefined {
    const head = this.buffer[0];
    if (head === undefined || this.alone !== null) return undefined;
    if (!isSuspect(head)) return this.inUse() < this.concurrency ? this.buffer.shift() : undefined;
    if (!this.idle() || this.reserved > 0) return undefined;
    this.alone = head.execution.id;
    return this.buffer.shift();
  }

  /** A run ended (its final write answered): true when it was the suspect running alone. */
  ended(executionId: string): boolean {
    if (this.alone !== executionId) return false;
    this.alone = null;
    return true;
  }

  /** Drops a buffered claim of `executionId`: any, or only the one holding `leaseToken`. */
  dropBuffered(executionId: string, leaseToken?: number): void {
    this.buffer = this.buffer.filter(
      (item) => item.execution.id !== executionId || (leaseToken !== undefined && item.execution.leaseToken !== leaseToken),
    );
  }

  idle(): boolean {
    return this.running.size === 0 && this.settling.size === 0;
  }

  /** Every run in progress or settling. */
  runs(): ExecutionRunner[] {
    return [...this.running.values(), ...this.settling.values()];
  }

  /** Every lease held here that can be renewed: runs and settling runs (except `unstored` ones, whose row is not written yet) and the buffer. */
  fences(unstored: ReadonlySet<string>): Fence[] {
    const fences: Fence[] = [];
    for (const runner of this.running.values()) if (!unstored.has(runner.ctx.executionId)) fences.push(runner.fence);
    // A settling run whose execution runs here again (claimed anew after it parked) holds an older lease than
    // that run: the store answers a renewal by execution, so only the newer lease is sent.
    for (const runner of this.settling.values()) {
      const id = runner.ctx.executionId;
      if (!unstored.has(id) && !this.running.has(id)) fences.push(runner.fence);
    }
    for (const item of this.buffer) fences.push({ executionId: item.execution.id, leaseToken: item.execution.leaseToken });
    return fences;
  }
}
