/**
 * The one source of time for the engine, the worker and the stores. Tests move a {@link ManualClock}
 * instead of sleeping; lease expiry, timers, backoffs and timeouts all follow it.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms` of this clock's time, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = longTimer(ms, done);
      function done() {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }
      function onAbort() {
        cancel();
        reject(signal?.reason);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
  setTimer: longTimer,
};

/** The longest delay Node's timers take; a longer one fires at once (with a warning). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `fn` after `ms`, however long (a timeout or grace period of weeks): a delay over Node's limit
 * is waited in steps. Timers stay referenced: a running engine (or a pending long-poll) keeps its process
 * alive until stop().
 */
function longTimer(ms: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    timer = left > MAX_TIMER_MS ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock that only moves when told to. Timers fire in due order as `advance()` passes them. */
export class ManualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private seq = 0;
  private sleepers = 0;
  private readonly sleeperWatchers = new Set<() => void>();

  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = () => {
        this.sleepers -= 1;
        signal?.removeEventListener("abort", onAbort);
      };
      const cancel = this.setTimer(ms, () => {
        done();
        resolve();
      });
      const onAbort = () => {
        cancel();
        done();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers += 1;
      for (const check of [...this.sleeperWatchers]) check();
    });
  }

  /**
   * Resolves once at least `count` `sleep()` calls are pending. Tests use it to move time exactly when
   * the code under test is waiting (an in-place retry backoff, say), instead of sleeping themselves.
   */
  whenSleeping(count = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.sleepers < count) return;
        this.sleeperWatchers.delete(check);
        resolve();
      };
      this.sleeperWatchers.add(check);
      check();
    });
  }

  /** Number of timers waiting to fire (tests use it to know the code under test has parked). */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
  }
}
