/**
 * Terminal notices go to other processes only while some process waits for an execution to end
 * (docs/decisions/045-terminal-notices-while-watched.md). Publishing one for every end cost a drain with
 * nobody waiting a tenth of its speed; most ends have no waiter anywhere.
 *
 * The protocol, on one advisory lock per schema:
 * - a process with waiters (long-polls, `waitForTerminal`, schedule ticks held on a running execution)
 *   holds the lock SHARED on its LISTEN connection, taken before it reads the statuses it will wait on;
 * - a statement that can end executions tries the lock EXCLUSIVE in its own transaction
 *   (`unwatchedColumn`), and when it gets it, its terminal notices stay in this process.
 *
 * Invariant (no lost wake-up): a waiter either held the lock before the completing transaction tried it
 * (the try fails, so the notice is published after the commit and reaches the waiter's LISTEN), or it asks
 * for the lock while the completing transaction holds it, waits for that commit, and then reads the ended
 * row itself. A try that fails for any other reason (another completing transaction holds it) only
 * publishes what nobody needed.
 */
import type { Notice } from "../store.js";

/** The lock's first key; the second is the schema's hash, so installations sharing a database do not meet. */
const WATCH_LOCK_CLASS = 1515870812;

/** The lock's two keys as SQL arguments, for the schema `s` (a quoted identifier). */
export function watchLockArgs(s: string): string {
  return `${WATCH_LOCK_CLASS}, hashtext('${s.replaceAll("'", "''")}')`;
}

/** A select-list column, evaluated once per statement: true when no process watches (the lock was free). */
export function unwatchedColumn(s: string): string {
  return `(SELECT pg_try_advisory_xact_lock(${watchLockArgs(s)})) AS unwatched`;
}

/**
 * What of a write's notices goes to other processes: all of them, or, when the write found nobody
 * watching (`unwatchedColumn` true), all but the terminal ones. A new array: callers may add to it.
 */
export function publishedNotices(notices: readonly Notice[], unwatched: boolean): Notice[] {
  return unwatched ? notices.filter((notice) => notice.kind !== "terminal") : [...notices];
}

/** The LISTEN connection's side: hold the shared lock or not (and take it again after a reconnect). */
export interface WatchLock {
  setWatching(on: boolean): Promise<void>;
}

/**
 * Counts this process's holders and keeps the shared lock while there is one, and `lingerMs` after the
 * last leaves: a long-poll that follows another does not wait for the lock again.
 */
export class WatchPresence {
  private holders = 0;
  private linger: NodeJS.Timeout | null = null;

  constructor(
    private readonly lock: WatchLock,
    private readonly lingerMs: number,
  ) {}

  /** Resolves once the lock is held (or the LISTEN connection is down: its reconnect takes it); returns the release. */
  async hold(): Promise<() => Promise<void>> {
    this.holders += 1;
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    await this.lock.setWatching(true);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      if (this.holders > 0) return;
      if (this.lingerMs <= 0) return this.lock.setWatching(false);
      this.linger = setTimeout(() => {
        this.linger = null;
        if (this.holders === 0) void this.lock.setWatching(false);
      }, this.lingerMs);
      this.linger.unref();
    };
  }

  close(): void {
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
  }
}
