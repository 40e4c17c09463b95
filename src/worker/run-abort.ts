/**
 * A run's abort (cancel, timeout, lost lease, shutdown): the AbortSignal the task's code and the store's
 * calls see, and the promise the runner races the run against. The AbortController is made only when
 * something asks for the signal (the task's code, a step's function, a timed step): a run whose steps only
 * check whether it was aborted, and race their promises against `rejection()`, makes none. The
 * runner is told by a plain callback, before the signal's listeners run (as a listener added first would
 * be), rather than by an EventTarget listener of its own per run: docs/decisions/030-run-abort.md.
 */
import { ExecutionAbortedError } from "../core/errors.js";

/** What a run's steps see of its abort (step-runner.ts, run-attempt.ts). */
export interface RunStop {
  /** The abort's error, or null while the run goes on. */
  readonly reason: ExecutionAbortedError | null;
  /** The run's AbortSignal; made when first asked for. */
  readonly signal: AbortSignal;
  /** Rejects with the abort's error once the run is aborted; one promise per run, never an unhandled rejection. */
  rejection(): Promise<never>;
}

export class RunAbort implements RunStop {
  private controller: AbortController | null = null;
  private error: ExecutionAbortedError | null = null;
  private told: ((error: ExecutionAbortedError) => void) | null = null;
  private rejected: { promise: Promise<never>; reject: (error: ExecutionAbortedError) => void } | null = null;

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.error !== null) this.controller.abort(this.error);
    }
    return this.controller.signal;
  }

  /** The abort's error, or null while the run is not aborted. */
  get reason(): ExecutionAbortedError | null {
    return this.error;
  }

  /**
   * Resolves with `outcome(error)` once the run is aborted; never otherwise. One caller per run (the runner),
   * which gets its outcome with no promise hop of its own, as its listener would have.
   */
  whenAborted<T>(outcome: (error: ExecutionAbortedError) => T): Promise<T> {
    if (this.error !== null) return Promise.resolve(outcome(this.error));
    return new Promise((resolve) => {
      this.told = (error) => resolve(outcome(error));
    });
  }

  rejection(): Promise<never> {
    if (this.error !== null) return Promise.reject(this.error);
    if (this.rejected === null) {
      let reject!: (error: ExecutionAbortedError) => void;
      const promise = new Promise<never>((_, rejectWith) => {
        reject = rejectWith;
      });
      promise.catch(() => {}); // observed through Promise.race
      this.rejected = { promise, reject };
    }
    return this.rejected.promise;
  }

  /** The first abort wins; later ones change nothing. */
  abort(reason: ExecutionAbortedError["reason"]): void {
    if (this.error !== null) return;
    const error = new ExecutionAbortedError(reason);
    this.error = error;
    const told = this.told;
    this.told = null;
    told?.(error);
    this.rejected?.reject(error);
    this.controller?.abort(error);
  }
}
