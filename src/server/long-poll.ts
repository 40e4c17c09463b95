/**
 * Open long-polls. Each waiter gets its own AbortController, fired when its client disconnects or
 * when the server drains, so `api.waitForTerminal` returns at once and the waiter answers 202
 * (an AbortSignal.any() per request would keep every request's signal reachable from the
 * long-lived shutdown signal; a set of controllers does not).
 */
import type { ServerResponse } from "node:http";
import type { ExecutionRecord } from "../core/types.js";
import type { ZartApi } from "../engine/api.js";

export class LongPolls {
  private readonly open = new Set<AbortController>();
  private draining = false;

  constructor(private readonly api: ZartApi) {}

  get count(): number {
    return this.open.size;
  }

  /**
   * Waits until the execution is terminal, `timeoutMs` passes, the client goes away or the server
   * drains; resolves with the execution's state at that moment.
   */
  async wait(id: string, timeoutMs: number, response: ServerResponse): Promise<ExecutionRecord> {
    if (this.draining || timeoutMs === 0) return this.api.waitForTerminal(id, 0);
    const controller = new AbortController();
    const onClose = () => controller.abort();
    this.open.add(controller);
    response.once("close", onClose);
    try {
      return await this.api.waitForTerminal(id, timeoutMs, controller.signal);
    } finally {
      this.open.delete(controller);
      response.removeListener("close", onClose);
    }
  }

  /** Answers every open long-poll now (with its current state) and makes new ones return at once. */
  drain(): void {
    this.draining = true;
    for (const controller of this.open) controller.abort();
  }
}
