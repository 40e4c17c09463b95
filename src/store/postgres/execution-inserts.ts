/**
 * How the PostgreSQL store inserts new executions (the SQL is create.ts). Executions without copied steps
 * share statements with concurrent ones (insert-batcher.ts); a rerun's, with its steps, goes alone. Both retry on a lost connection,
 * because each recognises its own rows committed by an attempt whose answer was lost (see create.ts), and
 * both send their notices only after commit.
 */
import { ZartError } from "../../core/errors.js";
import type { CreateResult, NewBatchedExecution, NewExecution, Notice } from "../store.js";
import { DEFAULT_MAX_QUEUED_INSERTS } from "../store-errors.js";
import { isConnectionError } from "./connection.js";
import { createExecutions, insertExecution } from "./create.js";
import { InsertBatcher } from "./insert-batcher.js";
import { breakingDeadlocks, type SqlContext } from "./sql-context.js";
import type { StoreConnections } from "./store-connections.js";

export class ExecutionInserts {
  private readonly ctx: SqlContext;
  private readonly batcher: InsertBatcher;

  constructor(
    private readonly db: StoreConnections,
    /** Rows that may wait for a shared insert before `insert` answers `overloaded` (default 10,000). */
    maxQueuedInserts: number | undefined,
  ) {
    this.ctx = db.ctx;
    this.batcher = new InsertBatcher(
      {
        insertMany: (inputs) => this.insertMany(inputs),
        insertOne: (input) => this.insertOne(input),
        isConnectionError: (error) => isConnectionError(error) || (error instanceof ZartError && error.code === "store_unavailable"),
      },
      Math.max(2, Math.floor(db.poolSize / 3)),
      maxQueuedInserts ?? DEFAULT_MAX_QUEUED_INSERTS,
    );
  }

  /** Executions without copied steps share inserts with concurrent ones; the others go alone. */
  insert(input: NewExecution): Promise<CreateResult> {
    return InsertBatcher.accepts(input) ? this.batcher.submit(input) : this.insertOne(input);
  }

  /** Rows accepted by the shared inserts and not yet answered (those going alone are not counted). */
  pending(): number {
    return this.batcher.pending();
  }

  insertMany(inputs: readonly NewBatchedExecution[]): Promise<CreateResult[]> {
    // Retried on a lost connection like insertOne (see createExecutions() for how it recognises its own rows).
    // And run again when PostgreSQL breaks a deadlock with it, recognising its own rows the same way.
    return this.db.emitting(
      this.db.retrying((attempt) => breakingDeadlocks(this.ctx, (again) => createExecutions(this.ctx, inputs, attempt > 1 || again > 1))),
    );
  }

  private async insertOne(input: NewExecution): Promise<CreateResult> {
    // Retried on a lost connection: insertExecution() recognises its own earlier insert (see there).
    let notices: Notice[] = [];
    const result = await this.db.retrying((attempt) => {
      notices = [];
      return insertExecution(this.ctx, this.ctx.pool, input, notices, attempt > 1);
    });
    this.db.emit(notices);
    return result;
  }
}
