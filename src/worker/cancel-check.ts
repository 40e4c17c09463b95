/**
 * Another process changed the store without saying what (SQLite's notice "changed"): an execution running
 * here may have been cancelled there. One read of the statuses of the runs in progress; at most one at a time.
 */
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";
import type { ExecutionRunner } from "./execution-runner.js";

export class CancelCheck {
  private checking = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly running: ReadonlyMap<string, ExecutionRunner>,
  ) {}

  async run(): Promise<void> {
    if (this.checking || this.running.size === 0) return;
    this.checking = true;
    try {
      const statuses = await this.store.getStatuses([...this.running.keys()]);
      for (const [id, status] of statuses) if (status === "cancelled") this.running.get(id)?.abort("cancelled");
    } catch (error) {
      this.logger.warn({ err: error }, "could not check for cancellations");
    } finally {
      this.checking = false;
    }
  }
}
