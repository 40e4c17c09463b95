/**
 * One timer for an idle worker: the earliest known due time (a sleep, a backoff, a lease expiry, a delayed
 * start) or the slow safety poll, whichever comes first. A due time already passed fires at once, not
 * through a zero-delay timer (which a manual clock would only fire at its next advance).
 */
import type { Clock } from "../core/clock.js";

export class WakeTimer {
  private timer: { at: number; cancel: () => void } | null = null;
  private stopped = false;

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

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }
}
