/**
 * A claim's lease runs from the time the worker sent the claim (`ClaimRequest.now`). A claim that came back
 * late (a stalled connection, a network that dropped packets for a while, a long wait for a pooled
 * connection) may hold a lease that is nearly or already over, which another worker can take at once: both
 * would then run the same step. So a claim whose round trip took half the lease or more is renewed (fenced
 * by its token) before anything runs, and only the executions whose renewal held are run. A renewal that is
 * itself late is checked the same way. The others stay claimed with a lapsed lease: any worker, this one
 * included, claims them again as due work.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { ClaimedExecution, ClaimResult, Fence, Store } from "../store/store.js";

export function claimIsLate(clock: Clock, sentAt: number, leaseMs: number): boolean {
  return clock.now() - sentAt >= leaseMs / 2;
}

export async function keepLateClaims(
  deps: { store: Store; clock: Clock; logger: Logger; leaseMs: number },
  sentAt: number,
  claimed: readonly ClaimedExecution[],
): Promise<ClaimedExecution[]> {
  const held = await keepLateLeases(
    deps,
    sentAt,
    claimed.map(({ execution }) => ({ executionId: execution.id, leaseToken: execution.leaseToken })),
  );
  return claimed.filter(({ execution }) => held.has(execution.id));
}

/**
 * The ids among `fences` whose leases, taken or last renewed by a write sent at `sentAt`, still hold: all of
 * them when that write is recent enough, else those a renewal (sent now, and again while it comes back late)
 * kept. `onRenewed` hears of each renewal that answered.
 */
export async function keepLateLeases(
  deps: { store: Store; clock: Clock; logger: Logger; leaseMs: number },
  sentAt: number,
  fences: readonly Fence[],
  onRenewed?: (fences: readonly Fence[], sentAt: number) => void,
): Promise<Set<string>> {
  const { store, clock, logger, leaseMs } = deps;
  let kept = [...fences];
  for (let since = sentAt; kept.length > 0 && claimIsLate(clock, since, leaseMs); ) {
    since = clock.now();
    let held: Set<string>;
    try {
      held = await store.renewLeases(kept, since, leaseMs);
    } catch (error) {
      logger.warn({ err: error, executions: kept.length }, "could not renew a late lease; its executions are left for a later claim");
      return new Set();
    }
    const before = kept.length;
    kept = kept.filter((fence) => held.has(fence.executionId));
    onRenewed?.(kept, since);
    if (kept.length < before) logger.warn({ lost: before - kept.length }, "a late lease was taken meanwhile; not running those");
  }
  return new Set(kept.map((fence) => fence.executionId));
}

/** A claim's result with only the executions whose lease still holds; rows left behind are due again, so there is more. */
export async function keepLateResult(
  deps: { store: Store; clock: Clock; logger: Logger; leaseMs: number },
  sentAt: number,
  result: ClaimResult,
): Promise<ClaimResult> {
  const kept = await keepLateClaims(deps, sentAt, result.claimed);
  return { claimed: kept, more: result.more || kept.length < result.claimed.length };
}

/**
 * Whether a lease taken by a write sent at `sentAt` (an eager start's insert, a delivery that claimed)
 * still holds: at once when the write came back in time, else after renewing it.
 */
export function leaseStillHolds(
  deps: { store: Store; clock: Clock; logger: Logger; leaseMs: number },
  sentAt: number,
  run: ClaimedExecution,
): boolean | Promise<boolean> {
  if (!claimIsLate(deps.clock, sentAt, deps.leaseMs)) return true;
  return keepLateClaims(deps, sentAt, [run]).then((kept) => kept.length === 1);
}
