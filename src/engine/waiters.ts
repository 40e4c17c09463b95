/**
 * Long-poll waiters. A waiter is one small record in a map by execution id and in a deadline queue:
 * no timer, closure or AbortSignal of its own, and never a query per tick. Terminal notices wake the
 * waiters of that execution; one timer, armed for the earliest deadline, ends those whose timeout
 * passed; a slow safety check asks the store once for the statuses of ALL waited ids (one query per
 * tick in total), which covers notices lost across processes (SQLite) or during a reconnect (Postgres).
 * Why no timer per waiter: docs/decisions/024-long-poll-memory.md. While any waiter is registered, the
 * store is told this process watches ends (`Store.watchTerminals`), so other processes publish theirs;
 * a waiter reads the status it waits on only once that holds (`ready`).
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { isTerminal } from "../core/types.js";
import type { Store } from "../store/store.js";
import { type Deadline, DeadlineQueue } from "./deadline-queue.js";
import { EndWatch } from "./end-watch.js";

/** One registered wait. */
export interface Waiter extends Deadline {
  readonly id: string;
}

/** A wait in promise form: `ended` resolves once it is woken, times out or is ended by its owner. */
export interface PromisedWaiter extends Waiter {
  readonly ended: Promise<void>;
}

interface Entry extends Waiter {
  readonly onEnd: () => void;
}

export class Waiters {
  /** An array, not a Set: usually one waiter per execution, and a one-element array is a quarter the size. */
  private readonly byId = new Map<string, Entry[]>();
  private readonly deadlines = new DeadlineQueue<Entry>();
  /** Due time of the armed deadline timer; it may be earlier than the queue's first (never later). */
  private timerAt = Number.POSITIVE_INFINITY;
  private cancelTimer: (() => void) | null = null;
  private cancelSafety: (() => void) | null = null;
  /** Taken while any waiter is registered. */
  private readonly ends: EndWatch;
  /** Set at shutdown, when every wait is answered with what it can read. */
  private answeringAll = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly safetyPollMs: number,
  ) {
    this.ends = new EndWatch(store);
  }

  get size(): number {
    return this.deadlines.size;
  }

  /**
   * Registers a wait for `id`; `onEnd` is called once, when the execution is reported terminal or
   * `timeoutMs` passes, or when the owner calls {@link end}, unless the owner {@link forget}s it first.
   * The owner must do one of the two once it stops waiting.
   */
  watch(id: string, timeoutMs: number, onEnd: () => void): Waiter {
    return this.add({ id, deadline: this.clock.now() + timeoutMs, slot: -1, onEnd });
  }

  /** {@link watch} in promise form. */
  wait(id: string, timeoutMs: number): PromisedWaiter {
    let resolve!: () => void;
    const ended = new Promise<void>((settle) => {
      resolve = settle;
    });
    return this.add({ id, deadline: this.clock.now() + timeoutMs, slot: -1, onEnd: resolve, ended });
  }

  /** Resolves once other processes publish the ends this process's waiters wait for: read statuses after it. */
  ready(): Promise<unknown> {
    return this.ends.ready();
  }

  private add<T extends Entry>(entry: T): T {
    this.ends.take();
    const same = this.byId.get(entry.id);
    if (same === undefined) this.byId.set(entry.id, [entry]);
    else same.push(entry);
    this.deadlines.push(entry);
    if (entry.deadline < this.timerAt) this.armDeadline(entry.deadline);
    this.armSafety();
    return entry;
  }

  /** Ends the wait (if still waiting): its owner is told, and it is forgotten. */
  end(waiter: Waiter): void {
    if (this.forget(waiter)) (waiter as Entry).onEnd();
  }

  /** Forgets the wait without telling its owner; false if it had already ended. */
  forget(waiter: Waiter): boolean {
    const entry = waiter as Entry;
    if (!this.deadlines.has(entry)) return false;
    // A queued entry is always listed under its id: add() puts it in both, and only forget() and wake()
    // take it out of either.
    const same = this.byId.get(entry.id) as Entry[];
    same.splice(same.indexOf(entry), 1);
    if (same.length === 0) this.byId.delete(entry.id);
    this.unqueue(entry);
    return true;
  }

  wake(id: string): void {
    const same = this.byId.get(id);
    if (same === undefined) return;
    this.byId.delete(id);
    for (const entry of same) {
      this.unqueue(entry);
      entry.onEnd();
    }
  }

  wakeAll(): void {
    this.answeringAll = true;
    for (const id of [...this.byId.keys()]) this.wake(id);
  }

  /**
   * The time `waiter` had left when it ended; 0 once its deadline passed, or at shutdown. A waiter woken by
   * an end whose execution runs again by the time it reads (a retry right after a cancel) waits again for
   * this long rather than answer as if its time had run out.
   */
  remaining(waiter: Waiter): number {
    return this.answeringAll ? 0 : Math.max(0, waiter.deadline - this.clock.now());
  }

  stop(): void {
    this.cancelSafety?.();
    this.cancelSafety = null;
  }

  private unqueue(entry: Entry): void {
    this.deadlines.remove(entry);
    if (this.deadlines.size > 0) return;
    this.disarmDeadline();
    this.ends.release();
  }

  private armDeadline(at: number): void {
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.clock.setTimer(at - this.clock.now(), () => this.endDue());
  }

  private disarmDeadline(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Ends every waiter whose deadline passed, then arms the timer for the next one. */
  private endDue(): void {
    this.cancelTimer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = this.deadlines.first();
    while (next !== undefined && next.deadline <= now) {
      this.end(next);
      next = this.deadlines.first();
    }
    if (next !== undefined) this.armDeadline(next.deadline);
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
