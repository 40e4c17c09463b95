/**
 * Open long-polls. Each one gets a {@link PollStop}, fired when its client disconnects or when the
 * server drains, so `api.waitForTerminal` returns at once and the waiter answers 202. Ten thousand
 * may be open at once, so each holds as little as it can: a PollStop rather than an AbortController
 * with a listener, a plain `close` listener rather than `once` (whose wrapper is one more closure), and
 * no async function of its own suspended for the whole wait. Why: docs/decisions/024-long-poll-memory.md.
 */
import type { ServerResponse } from "node:http";
import type { ExecutionRecord } from "../core/types.js";
import type { WaitSignal, ZartApi } from "../engine/api.js";

const NO_LISTENERS: ReadonlyArray<() => void> = [];

/** One long-poll's stop signal: fires at most once, then forgets its listeners. */
class PollStop implements WaitSignal {
  aborted = false;
  // Replaced, never grown in place: concat() makes an array of the exact length (one listener, as a rule),
  // where push() onto an empty array reserves room for 16.
  private listeners = NO_LISTENERS;

  /** An own property, so it can be the response's `close` listener as it is. */
  readonly abort = (): void => {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = NO_LISTENERS;
    for (const listener of listeners) listener();
  };

  addEventListener(_type: "abort", listener: () => void): void {
    if (!this.aborted) this.listeners = this.listeners.concat(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    this.listeners = this.listeners.filter((other) => other !== listener);
  }
}

export class LongPolls {
  private readonly open = new Set<PollStop>();
  private draining = false;

  constructor(private readonly api: ZartApi) {}

  get count(): number {
    return this.open.size;
  }

  /**
   * Waits until the execution is terminal, `timeoutMs` passes, the client goes away or the server
   * drains; resolves with the execution's state at that moment.
   */
  wait(id: string, timeoutMs: number, response: ServerResponse): Promise<ExecutionRecord> {
    if (this.draining || timeoutMs === 0) return this.api.waitForTerminal(id, 0);
    const stop = new PollStop();
    this.open.add(stop);
    response.on("close", stop.abort);
    return this.api.waitForTerminal(id, timeoutMs, stop).finally(() => {
      this.open.delete(stop);
      response.removeListener("close", stop.abort);
    });
  }

  /** Answers every open long-poll now (with its current state) and makes new ones return at once. */
  drain(): void {
    this.draining = true;
    for (const stop of this.open) stop.abort();
  }
}
