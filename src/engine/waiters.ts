/**
 * Long-poll waiters. A waiter costs a map entry and a timer, never a query per tick: terminal notices
 * wake the waiters of that execution, and a slow safety check asks the store once for the statuses of
 * ALL waited ids (one query per tick in total), which covers notices lost across processes (SQLite)
 * or during a reconnect (Postgres).
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { isTerminal } from "../core/types.js";
import type { Store } from "../store/store.js";

export class Waiters {
  private readonly byId = new Map<string, Set<() => void>>();
  private cancelSafety: (() => void) | null = null;
  private count = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly safetyPollMs: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Resolves when the execution is reported terminal, `timeoutMs` passes, or `signal` aborts. */
  wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = this.byId.get(id) ?? new Set<() => void>();
      this.byId.set(id, set);
      const done = () => {
        cancelTimer();
        signal?.removeEventListener("abort", done);
        if (set.delete(done)) this.count -= 1;
        if (set.size === 0 && this.byId.get(id) === set) this.byId.delete(id);
        resolve();
      };
      set.add(done);
      this.count += 1;
      const cancelTimer = this.clock.setTimer(timeoutMs, done);
      if (signal?.aborted) return done();
      signal?.addEventListener("abort", done, { once: true });
      this.armSafety();
    });
  }

  wake(id: string): void {
    const set = this.byId.get(id);
    if (set) for (const done of [...set]) done();
  }

  wakeAll(): void {
    for (const id of [...this.byId.keys()]) this.wake(id);
  }

  stop(): void {
    this.cancelSafety?.();
    this.cancelSafety = null;
  }

  private armSafety(): void {
    if (this.cancelSafety) return;
    this.cancelSafety = this.clock.setTimer(this.safetyPollMs, () => {
      this.cancelSafety = null;
      void this.safetyCheck().finally(() => {
        if (this.byId.size > 0) this.armSafety();
      });
    });
  }

  /** One store query for every waited id; wakes those that became terminal. */
  async safetyCheck(): Promise<void> {
    const ids = [...this.byId.keys()];
    if (ids.length === 0) return;
    try {
      const statuses = await this.store.getStatuses(ids);
      for (const [id, status] of statuses) if (isTerminal(status)) this.wake(id);
    } catch (error) {
      this.logger.warn({ err: error }, "long-poll safety check failed");
    }
  }
}
