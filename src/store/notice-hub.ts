import type { Logger } from "../core/logger.js";
import type { Notice, NoticeListener } from "./store.js";

/**
 * In-process fan-out of change notices. Callers emit only after their transaction committed, so a listener
 * never sees a change that could still roll back; a listener that throws is logged and skipped so one bad
 * subscriber cannot break a write path or starve the others.
 */
export class NoticeHub {
  private readonly listeners = new Set<NoticeListener>();

  constructor(private readonly logger: Logger) {}

  subscribe(listener: NoticeListener): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry: NoticeListener = (notice) => listener(notice);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(notices: readonly Notice[]): void {
    for (const notice of notices) {
      for (const listener of [...this.listeners]) {
        try {
          listener(notice);
        } catch (error) {
          this.logger.warn({ err: error, notice }, "store notice listener threw");
        }
      }
    }
  }
}
