/**
 * Group commit for new executions on PostgreSQL. Concurrent `createExecution` calls of executions without
 * copied steps share multi-row INSERTs, one per creation transition (queued, born claimed, born completed,
 * born failed: an eager start's first write is one of the last three): the calls of one event-loop turn
 * go together at the turn's end (the requests one read of the sockets parsed); those that arrive while
 * inserts are in flight wait for one to finish and go together. Each caller still gets its own answer,
 * and only after the statement that carries its row committed. A statement the database refuses for good
 * is retried row by row, so one bad row fails alone.
 *
 * Why: each insert was its own transaction and fsync; a burst of POSTs queued on the pool
 * (docs/decisions/020-postgres-insert-batching.md). Why at the turn's end rather than at once: a free
 * statement otherwise carried one row (docs/decisions/032-inserts-per-turn.md). Why eager starts too: a
 * burst of them then costs what a burst of queued inserts does (docs/decisions/046-shared-eager-inserts.md).
 *
 * Bounded: at most `maxQueued` rows wait for a statement; beyond that a submit is refused at once with
 * `overloaded` (the database is slower than the load; the caller retries later) rather than queued.
 */
import type { CreateResult, NewBatchedExecution, NewExecution } from "../store.js";
import { overloadedError } from "../store-errors.js";
import { creationTransition } from "../writes.js";

interface Queued {
  input: NewBatchedExecution;
  /** The creation transition's name: a statement carries rows of one. */
  kind: string;
  resolve(result: CreateResult): void;
  reject(error: unknown): void;
}

export interface InsertBatcherDeps {
  /** Inserts a batch of one creation transition in one statement (createExecutions), retried on a lost connection by the caller. */
  insertMany(inputs: readonly NewBatchedExecution[]): Promise<CreateResult[]>;
  /** Inserts one row (createExecution's own path), for rows of a refused batch. */
  insertOne(input: NewExecution): Promise<CreateResult>;
  isConnectionError(error: unknown): boolean;
}

/** At most this many rows per statement (its JSON parameter stays small). */
const MAX_BATCH = 500;

export class InsertBatcher {
  private queue: Queued[] = [];
  private inFlight = 0;
  /** Rows in the statements in flight. */
  private rowsInFlight = 0;
  /** A pump is due at the end of this turn. */
  private pumpDue = false;

  constructor(
    private readonly deps: InsertBatcherDeps,
    /** Statements in flight at once (the rest of the pool serves everything else). */
    private readonly maxInFlight: number,
    /** Rows that may wait for a statement. */
    private readonly maxQueued: number,
  ) {}

  /** Whether `input` can ride in a shared insert. */
  static accepts(input: NewExecution): input is NewBatchedExecution & NewExecution {
    return (input.steps?.length ?? 0) === 0;
  }

  /** Rows waiting for a statement or in one. */
  pending(): number {
    return this.queue.length + this.rowsInFlight;
  }

  submit(input: NewBatchedExecution): Promise<CreateResult> {
    if (this.queue.length >= this.maxQueued) return Promise.reject(overloadedError(this.maxQueued));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, kind: creationTransition(input).name, resolve, reject });
      if (this.pumpDue || this.inFlight >= this.maxInFlight) return;
      this.pumpDue = true;
      setImmediate(() => {
        this.pumpDue = false;
        this.pump();
      });
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      this.rowsInFlight += batch.length;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.rowsInFlight -= batch.length;
        this.pump();
      });
    }
  }

  /** Up to MAX_BATCH queued rows of the first one's kind, in order; the others keep their places. */
  private takeBatch(): Queued[] {
    const kind = (this.queue[0] as Queued).kind;
    if (this.queue.length <= MAX_BATCH && this.queue.every((item) => item.kind === kind)) {
      const all = this.queue;
      this.queue = [];
      return all;
    }
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    for (const item of this.queue) (item.kind === kind && batch.length < MAX_BATCH ? batch : rest).push(item);
    this.queue = rest;
    return batch;
  }

  private async send(batch: Queued[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Queued];
      await this.deps.insertOne(only.input).then(only.resolve, only.reject);
      return;
    }
    try {
      const results = await this.deps.insertMany(batch.map((item) => item.input));
      batch.forEach((item, i) => {
        const result = results[i];
        if (result) item.resolve(result);
        else item.reject(new Error("batch insert returned no result for a row"));
      });
    } catch (error) {
      if (this.deps.isConnectionError(error)) {
        for (const item of batch) item.reject(error);
        return;
      }
      // Refused for good: each row alone, so only the one the database refuses fails.
      await Promise.all(batch.map((item) => this.deps.insertOne(item.input).then(item.resolve, item.reject)));
    }
  }
}
