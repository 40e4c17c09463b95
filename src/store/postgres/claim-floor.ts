/**
 * Where a claim's scan of the due index may start (docs/decisions/037-postgres-claim-floor.md).
 *
 * Every claim and every end leaves a dead entry in `executions_due` (an update of an indexed row writes a
 * new entry and leaves the old one until VACUUM), all of them at due times in the past. A scan from the
 * start of the index steps over every one of them, so without a bound a claim costs more the more work
 * has run since the last VACUUM. The floor is a due time below which this store's last scans found nothing
 * live; the next scan starts there.
 *
 * Invariant: a row due at a time below the floor is found by the next claim after it is noticed (every
 * write that makes a row runnable sends a `runnable` notice after its commit, with its due time, and the
 * notice lowers the floor), and in any case by a scan from the start, which one claim in every
 * {@link FULL_SCAN_EVERY_MS} makes. The floor rises only to what a scan saw: to the first row it claimed
 * when it claimed as many as it asked for, or to a little before its `now` when it found fewer and none
 * was left for later (a row it skipped, locked by another transaction, is claimed there or released with
 * a notice; a row it locked but could not take is reported left, with a notice: decision 053; a claim
 * that rolls back is the one case left to the full scan).
 *
 * Beside the floor, a hint: `tiered` when the last claim of these tasks took rows with a priority. Such a
 * claim skips `pick_due`'s question whether a row with a priority is due and reads the priority tiers at
 * once, so the priority index's dead entries are walked once rather than twice (decision 041). A wrong
 * hint costs two probes of an empty index, never a wrong answer.
 */
import type { ClaimRequest, ClaimResult, Notice } from "../store.js";

/** At least one claim in this long scans the due index from its start (engine clock, ms). */
export const FULL_SCAN_EVERY_MS = 5_000;
/** How far below its `now` an exhausted scan puts the floor: slack for clocks measured apart. */
export const FLOOR_MARGIN_MS = 1_000;
/** The bound of a scan from the start (below every due time). */
export const NO_FLOOR = Number.MIN_SAFE_INTEGER;

/** What a claim's statement is told: where its scan starts, and whether it goes straight to the tiers. */
export interface ScanBounds {
  /** The scan's lower bound on `runnable_at` for rows of priority 0. */
  from: number;
  tiered: boolean;
}

interface FloorScan extends ScanBounds {
  /** The lowest due time noticed while the scan was in flight. */
  noticed: number;
  readonly tasks: string;
}

/** One floor per task list: a scan that found nothing says nothing about rows of other tasks. */
interface Floor {
  at: number;
  lastFullScan: number;
  /** The last claim took rows with a priority. */
  tiered: boolean;
}

export class ClaimFloor {
  private readonly floors = new Map<string, Floor>();
  private readonly inFlight = new Set<FloorScan>();

  /** Called with every notice this store delivers, its own and other processes'. */
  notice(notice: Notice): void {
    if (notice.kind === "runnable") this.lower(notice.at);
    else if (notice.kind === "reconnected") this.lower(NO_FLOOR);
  }

  /**
   * Runs a claim's statement with its scan bounded below by the floor (`from`), then moves the floor by what
   * it claimed. `claim` null (the statement claimed nothing it could report) leaves the floor where it was.
   */
  async scan<T extends { claim: ClaimResult | null; firstPlainDue: number | null }>(
    request: ClaimRequest,
    run: (bounds: ScanBounds) => Promise<T>,
  ): Promise<T> {
    if (request.limit <= 0 || request.tasks.length === 0) return run({ from: NO_FLOOR, tiered: false });
    const scan = this.begin(request);
    let outcome: T;
    try {
      outcome = await run({ from: scan.from, tiered: scan.tiered });
    } catch (error) {
      this.failed(scan);
      throw error;
    }
    this.end(scan, request, outcome.claim ?? { claimed: [], more: true }, outcome.firstPlainDue);
    return outcome;
  }

  /** A claim starts: where it may start its scan. */
  private begin(request: ClaimRequest): FloorScan {
    const tasks = keyOf(request.tasks);
    let floor = this.floors.get(tasks);
    if (floor === undefined) {
      floor = { at: NO_FLOOR, lastFullScan: Number.NEGATIVE_INFINITY, tiered: false };
      this.floors.set(tasks, floor);
    }
    let from = floor.at;
    // A clock that went back (an injected one, a new offset) also scans from the start.
    const wentBack = request.now < floor.lastFullScan || request.now < floor.at;
    if (request.now - floor.lastFullScan >= FULL_SCAN_EVERY_MS || wentBack) {
      floor.lastFullScan = request.now;
      from = NO_FLOOR;
    }
    const scan = { from, tiered: floor.tiered, noticed: Number.POSITIVE_INFINITY, tasks };
    this.inFlight.add(scan);
    return scan;
  }

  /**
   * A claim committed. `firstPlainDue`: the due time of the first row of priority 0 it claimed (rows of
   * other priorities are read from another index).
   */
  private end(scan: FloorScan, request: ClaimRequest, result: ClaimResult, firstPlainDue: number | null): void {
    this.inFlight.delete(scan);
    const floor = this.floors.get(scan.tasks);
    if (floor === undefined || request.limit <= 0) return;
    floor.tiered = result.claimed.some((c) => c.execution.priority !== 0);
    let reached = scan.from;
    if (result.claimed.length < request.limit && !result.more) reached = request.now - FLOOR_MARGIN_MS;
    else if (firstPlainDue !== null) reached = Math.max(scan.from, firstPlainDue);
    // A scan from the start knows everything below where it reached. A bounded one adds to what the floor
    // knew only while the floor still vouches for everything below where it began: a scan from the start
    // that ended meanwhile may have put the floor lower (on a row no notice announced), where this one never looked.
    let at = reached;
    if (scan.from !== NO_FLOOR) at = floor.at < scan.from ? floor.at : Math.max(floor.at, reached);
    floor.at = Math.min(at, scan.noticed);
  }

  /** A claim failed: what it locked is free again, unseen by the floor. */
  private failed(scan: FloorScan): void {
    this.inFlight.delete(scan);
    this.lower(NO_FLOOR);
  }

  /** The bound for a read of these tasks' next due time. */
  current(tasks: readonly string[]): number {
    return this.floors.get(keyOf(tasks))?.at ?? NO_FLOOR;
  }

  private lower(at: number): void {
    for (const floor of this.floors.values()) if (at < floor.at) floor.at = at;
    for (const scan of this.inFlight) if (at < scan.noticed) scan.noticed = at;
  }
}

/** Task names cannot hold NUL (values are checked where they are received). */
function keyOf(tasks: readonly string[]): string {
  return tasks.join("\u0000");
}
