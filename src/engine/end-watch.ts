/**
 * One holder's use of `Store.watchTerminals` (docs/decisions/045-terminal-notices-while-watched.md): taken
 * when the holder starts waiting for ends, released when it stops, and a read of what it waits on made
 * only once it holds. The waiters and the schedule ticker each keep one.
 */
import type { Store } from "../store/store.js";

export class EndWatch {
  /** Resolves to the release once other processes publish ends; null while not taken. */
  private watching: Promise<() => Promise<void>> | null = null;

  constructor(private readonly store: Store) {}

  /** Whether ends are published to this process now, or will be once `ready()` resolves (a store without the capability publishes all). */
  get held(): boolean {
    return this.watching !== null || this.store.watchTerminals === undefined;
  }

  /** Takes the watch if it is not taken. */
  take(): void {
    if (this.watching === null && this.store.watchTerminals) this.watching = this.store.watchTerminals();
  }

  /** Resolves once the watch taken holds: read the statuses waited on after it. */
  ready(): Promise<unknown> {
    return this.watching ?? Promise.resolve();
  }

  release(): void {
    const watching = this.watching;
    this.watching = null;
    void watching?.then((release) => release());
  }
}
