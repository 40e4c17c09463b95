/**
 * The engine's clock on a store shared by machines (PostgreSQL): the injected clock plus the measured
 * offset of the store's clock, so every time written and compared (runnability, leases, wake times) is on
 * the database's clock whatever each machine's clock says. The offset is measured at start and, for the
 * system clock, every minute after (clocks drift); an injected clock (tests) keeps its start offset, so it
 * still moves only when the test moves it. docs/engine.md, "Clocks".
 */
import { type Clock, systemClock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";

const RESYNC_MS = 60_000;

export class SyncedClock implements Clock {
  private offset = 0;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly base: Clock,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** The clock to use with `store`: `base` itself when the store lives on this machine's clock. */
  static async for(base: Clock, store: Store, logger: Logger): Promise<Clock> {
    if (!store.capabilities.sharedClock) return base;
    const clock = new SyncedClock(base, store, logger);
    await clock.sync();
    if (base === systemClock) {
      clock.timer = setInterval(
        () => void clock.sync().catch((error: unknown) => logger.warn({ err: error }, "clock sync failed")),
        RESYNC_MS,
      );
      clock.timer.unref();
    }
    return clock;
  }

  private async sync(): Promise<void> {
    const offset = await this.store.clockOffset(() => this.base.now());
    if (Math.abs(offset - this.offset) > 1000)
      this.logger.info({ offsetMs: offset }, "this machine's clock differs from the store's; using the store's");
    this.offset = offset;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  now(): number {
    return this.base.now() + this.offset;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.base.sleep(ms, signal);
  }

  setTimer(ms: number, fn: () => void): () => void {
    return this.base.setTimer(ms, fn);
  }
}
