/**
 * One timer for an idle worker: the earliest known due time (a sleep, a backoff, a lease expiry, a delayed
 * start) or the slow safety poll, whichever comes first. A due time already passed fires at once, not
 * through a zero-delay timer (which a manual clock would only fire at its next advance).
 */
import type { Clock } from "../core/clock.js";

/** Retry delays for a due row that a claim could not take (its row is locked by another transaction). */
const MIN_DUE_RETRY_MS = 10;
const MAX_DUE_RETRY_MS = 1000;

export class WakeTimer {
  private timer: { at: number; cancel: () => void } | null = null;
  private stopped = false;
  private dueRetryMs = MIN_DUE_RETRY_MS;

  constructor(
    private readonly clock: Clock,
    private readonly safetyPollMs: number,
    private readonly onWake: () => void,
  ) {}

  /** Keeps one timer, for the earliest of `due` and the safety poll. */
  arm(due: number): void {
    if (this.stopped) return;
    const now = this.clock.now();
    let at = due;
    if (at <= now) {
      this.onWake();
      at = Number.POSITIVE_INFINITY;
    }
    const target = Math.min(at, now + this.safetyPollMs);
    if (this.timer && this.timer.at <= target && this.timer.at > now) return;
    this.timer?.cancel();
    const cancel = this.clock.setTimer(Math.max(0, target - now), () => {
      this.timer = null;
      this.onWake();
      // Re-arm the safety poll even when the pass finds nothing.
      if (!this.timer) this.arm(Number.POSITIVE_INFINITY);
    });
    this.timer = { at: target, cancel };
  }

  /**
   * Arms for the store's next wake-up time `next` after a claim at `lastClaimAt` that drained what it could.
   * A time due by that claim, which the claim did not take, means another transaction held the row's lock
   * (a claim elsewhere, a refused delivery): look again shortly, backing off while it stays so, rather
   * than at the safety poll.
   */
  armNext(next: number | null, lastClaimAt: number): void {
    if (next !== null && next <= lastClaimAt) {
      this.arm(this.clock.now() + this.dueRetryMs);
      this.dueRetryMs = Math.min(this.dueRetryMs * 2, MAX_DUE_RETRY_MS);
      return;
    }
    this.dueRetryMs = MIN_DUE_RETRY_MS;
    this.arm(next ?? Number.POSITIVE_INFINITY);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }
}
