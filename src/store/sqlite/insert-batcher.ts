/**
 * Group commit for new executions. Concurrent `createExecution` calls that arrive in the same turn of
 * the event loop are inserted in ONE transaction, each inside its own savepoint (better-sqlite3 nests a
 * transaction function as a savepoint), so one failing insert does not undo the others.
 *
 * Why: a SQLite commit costs a WAL append and lock handover per transaction, which one-insert
 * transactions pay per request (docs/decisions/014-sqlite-insert-batching.md). Everything is still
 * committed before any caller's promise resolves.
 *
 * Bounded like the PostgreSQL batcher: at most `maxQueued` inserts wait for the next flush (they can only
 * pile up within one turn, since a flush is synchronous), beyond that a submit is refused with `overloaded`.
 */
import type { CreateResult, NewExecution, Notice } from "../store.js";
import { overloadedError } from "../store-errors.js";
import { createExecution } from "./create.js";
import type { Connection } from "./statement-cache.js";

interface Queued {
  input: NewExecution;
  resolve(result: CreateResult): void;
  reject(error: unknown): void;
}

export class InsertBatcher {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(
    private readonly conn: Connection,
    private readonly emit: (notices: readonly Notice[]) => void,
    private readonly maxQueued: number,
  ) {}

  /** Inserts waiting for the next flush (a flush is synchronous, so none is ever half done). */
  pending(): number {
    return this.queue.length;
  }

  submit(input: NewExecution): Promise<CreateResult> {
    if (this.queue.length >= this.maxQueued) return Promise.reject(overloadedError(this.maxQueued));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const outcomes: Array<{ result: CreateResult; notices: Notice[] } | { error: unknown }> = [];
    try {
      this.conn.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push(createExecution(this.conn, item.input));
            } catch (error) {
              outcomes.push({ error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (!outcome || "error" in outcome) item.reject(outcome?.error ?? new Error("insert produced no outcome"));
      else {
        this.emit(outcome.notices);
        item.resolve(outcome.result);
      }
    });
  }
}
