/**
 * Sends this process's notices to the other processes, right after the write that caused them committed.
 *
 * Why not NOTIFY inside the writing transaction (a trigger or pg_notify in the statement): PostgreSQL
 * serialises the commits of all transactions that issued NOTIFY on one lock held through the commit's
 * WAL flush, so they lose group commit (docs/decisions/006-notify-after-commit.md).
 *
 * What it costs: a notice can be lost when the process dies (or its connection drops) between the commit and
 * the publish - the same loss as a NOTIFY sent while a listener is reconnecting, which the engine already
 * covers with its safety poll and `reconnected` re-poll. A notice is never sent for an uncommitted change.
 *
 * Payloads are coalesced: while one publish is in flight, new ones queue and go out together in the next
 * statement (`pg_notify` over `unnest`). That statement writes no WAL, so it holds the notify lock only for
 * microseconds.
 */
import type pg from "pg";
import type { Logger } from "../../core/logger.js";
import type { Notice } from "../store.js";
import { encodeNotices } from "./notice-payload.js";

export class NoticePublisher {
  private queue: string[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  publish(notices: readonly Notice[]): void {
    this.queue.push(...encodeNotices(notices));
    if (this.queue.length > 0 && this.flushing === null) this.flushing = this.drain();
  }

  /** Resolves once everything published so far has been sent (or given up on). */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.send(batch);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async send(batch: string[]): Promise<void> {
    try {
      await this.pool.query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS p(payload)", [this.channel, batch]);
    } catch (error) {
      // Notices are wake-up hints: other processes' safety polls find the work anyway. Never fail the write.
      this.logger.warn({ err: error, notices: batch.length }, "could not publish postgres notices; other processes will poll");
    }
  }
}
