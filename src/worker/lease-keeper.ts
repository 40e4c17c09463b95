/**
 * Renews the leases of every execution this worker runs, in one store call every third of the lease, and
 * knows when each of them ends. An execution whose lease is gone (expired and reclaimed elsewhere, or
 * cancelled) is aborted through its signal; its later writes would be fenced out anyway.
 *
 * A lease taken or renewed by a write sent at `t` ends at `t + lease` (the store computes the end from the
 * sender's time). Before a step function starts, the run asks `holds`: when half a lease or more has passed
 * since the latest write that confirmed it was sent, the lease may have run out while this process stood
 * still (stopped, swapped out, a long pause) and another worker may have run that very step; the lease is
 * renewed first, and the step runs only if the renewal kept it.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Fence, Store } from "../store/store.js";
import { claimIsLate, keepLateLeases } from "./late-claims.js";

export class LeaseKeeper {
  private cancelTimer: (() => void) | null = null;
  /** When the latest renewal that answered was sent, per execution held then (with the token it renewed). */
  private renewed = new Map<string, { token: number; sentAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly leaseMs: number,
    /** Every lease this worker holds: running executions and prefetched ones. */
    private readonly held: () => Fence[],
    /** A lease the store no longer holds for this worker: the run (or buffered claim) holding that fence. */
    private readonly onLost: (fence: Fence) => void,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private schedule(): void {
    this.cancelTimer = this.clock.setTimer(Math.max(100, Math.floor(this.leaseMs / 3)), () => {
      void this.renew().finally(() => {
        if (this.cancelTimer) this.schedule();
      });
    });
  }

  /** Renews all held leases now; exposed for tests. */
  async renew(): Promise<void> {
    const fences = this.held();
    if (fences.length === 0) return;
    const sentAt = this.clock.now();
    try {
      const held = await this.store.renewLeases(fences, sentAt, this.leaseMs);
      const renewed = new Map<string, { token: number; sentAt: number }>();
      for (const fence of fences) {
        if (held.has(fence.executionId)) renewed.set(fence.executionId, { token: fence.leaseToken, sentAt });
        else this.onLost(fence);
      }
      this.renewed = renewed;
    } catch (error) {
      this.logger.warn({ err: error }, "lease renewal failed; will retry");
    }
  }

  /**
   * Whether `fence`'s lease, which the write that took it set to end at `takenUntil`, is known to hold for a
   * while yet: true at once when less than half a lease passed since it was last confirmed, else once a
   * renewal kept it.
   */
  holds(fence: Fence, takenUntil: number): true | Promise<boolean> {
    const renewal = this.renewed.get(fence.executionId);
    const takenAt = takenUntil - this.leaseMs;
    const since = renewal?.token === fence.leaseToken ? Math.max(takenAt, renewal.sentAt) : takenAt;
    if (!claimIsLate(this.clock, since, this.leaseMs)) return true;
    const deps = { store: this.store, clock: this.clock, logger: this.logger, leaseMs: this.leaseMs };
    return keepLateLeases(deps, since, [fence], (kept, sentAt) => {
      for (const f of kept) this.renewed.set(f.executionId, { token: f.leaseToken, sentAt });
    }).then((held) => held.has(fence.executionId));
  }
}
