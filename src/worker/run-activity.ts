/**
 * When a run parks. A durable wait (sleep, event wait, child wait, long step backoff) never settles within
 * the run that opens it; other `ctx` calls keep going meanwhile - `Promise.race` over waits, a wait beside
 * steps, waits in parallel. The run parks once it is quiescent: no `ctx` operation is in progress, at
 * least one wait is open, and the workflow's code has not finished after every microtask ran (checked on
 * the next macrotask). The park writes every open wait, so each can receive what it waits for, and the
 * execution wakes at the earliest of their times. A replay then settles the waits whose results arrived.
 *
 * Code that awaits something of its own outside `ctx` (a timer, a fetch) is not tracked: if every `ctx`
 * wait is open meanwhile, the run may park before that code resumes; the replay runs it again. Such code
 * should be inside a step anyway (docs/engine.md, "Replay and checkpoints").
 */
import type { AttemptRecord, StepRecord } from "../core/types.js";

export interface OpenWait {
  /** The wait's record as the park writes it (`waiting`, or `retrying` for a step's long backoff). */
  record: StepRecord;
  /** Failed attempts of a step in backoff, written with the park. */
  attempts: AttemptRecord[];
}

export class RunActivity {
  private busy = 0;
  /** Created by the first wait: most runs open none. */
  private waits: Map<string, OpenWait> | null = null;
  private checkScheduled = false;
  private finished = false;
  private quiescent!: () => void;
  /** Resolves when the run should park. */
  readonly parked: Promise<void>;

  constructor() {
    this.parked = new Promise((resolve) => {
      this.quiescent = resolve;
    });
  }

  /** Counts `work` as in progress until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.busy += 1;
    const done = () => {
      this.busy -= 1;
      this.scheduleCheck();
    };
    work.then(done, done);
    return work;
  }

  /** Opens a wait: a promise that never settles in this run. */
  open<T>(wait: OpenWait): Promise<T> {
    this.waits ??= new Map();
    this.waits.set(wait.record.name, wait);
    this.scheduleCheck();
    return new Promise<T>(() => {});
  }

  openWaits(): OpenWait[] {
    return this.waits === null ? [] : [...this.waits.values()];
  }

  /** The workflow's code settled: no park (its open waits are closed by the final write). */
  finish(): void {
    this.finished = true;
  }

  private scheduleCheck(): void {
    if (this.checkScheduled || this.waits === null) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      if (!this.finished && this.busy === 0 && this.waits !== null) this.quiescent();
    });
  }
}
