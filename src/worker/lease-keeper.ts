/**
 * Renews the leases of every execution this worker runs, in one store call every third of the lease.
 * An execution whose lease is gone (expired and reclaimed elsewhere, or cancelled) is aborted through
 * its signal; its later writes would be fenced out anyway.
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Fence, Store } from "../store/store.js";

export class LeaseKeeper {
  private cancelTimer: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly leaseMs: number,
    /** Every lease this worker holds: running executions and prefetched ones. */
    private readonly held: () => Fence[],
    private readonly onLost: (executionId: string) => void,
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
    try {
      const held = await this.store.renewLeases(fences, this.clock.now(), this.leaseMs);
      for (const fence of fences) if (!held.has(fence.executionId)) this.onLost(fence.executionId);
    } catch (error) {
      this.logger.warn({ err: error }, "lease renewal failed; will retry");
    }
  }
}
