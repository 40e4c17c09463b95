/**
 * Sees what other processes commit to the SQLite file, which has no notification channel between processes.
 * `PRAGMA data_version` is a read of shared memory that changes when another connection commits; while
 * anyone subscribes it is read every WATCH_MS, and a change is announced as a `changed` notice, so other
 * processes' new work, cancels and ends reach this one within about that long instead of at the safety poll.
 */
import type Database from "better-sqlite3";
import type { NoticeHub } from "../notice-hub.js";

/** How often other processes' commits are looked for. */
const WATCH_MS = 50;

export class CommitWatcher {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly notices: NoticeHub,
  ) {}

  /** Starts watching (once; a closed database is not watched). */
  start(): void {
    if (this.timer || !this.db.open) return;
    let seen = this.db.pragma("data_version", { simple: true });
    this.timer = setInterval(() => {
      if (!this.db.open) return;
      const version = this.db.pragma("data_version", { simple: true });
      if (version === seen) return;
      seen = version;
      this.notices.emit([{ kind: "changed" }]);
    }, WATCH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
