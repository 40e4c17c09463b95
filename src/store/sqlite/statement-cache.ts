import type Database from "better-sqlite3";
import type { ExecutionRow } from "../../state/columns.js";
import { prepareRowStatement, rowFromValues } from "./execution-rows.js";

/**
 * Prepares each SQL text once per connection. Statements are prepared on first use rather than at open,
 * because the tables do not exist until `migrate()` has run.
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();
  /** Statements that return execution rows, read as arrays (execution-rows.ts). */
  private readonly rowStatements = new Map<string, Database.Statement>();
  // biome-ignore lint/suspicious/noExplicitAny: bodies of any signature; `transaction` restores their types.
  private readonly transactions = new Map<(...args: any[]) => unknown, Database.Transaction<(...args: any[]) => unknown>>();

  constructor(private readonly db: Database.Database) {}

  /**
   * `body` as a transaction, made once per connection: better-sqlite3 builds a transaction's wrappers
   * (plain, deferred, immediate, exclusive) at each `db.transaction()` call, which costs several times
   * the transaction itself. Why: docs/decisions/025-sqlite-transactions-once.md. `body` must be a function made once (module level), taking
   * what varies as arguments; a nested call runs as a savepoint, as with `db.transaction()`.
   */
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  transaction<F extends (...args: any[]) => unknown>(body: F): Database.Transaction<F> {
    let transaction = this.transactions.get(body);
    if (!transaction) {
      transaction = this.db.transaction(body);
      this.transactions.set(body, transaction);
    }
    return transaction as Database.Transaction<F>;
  }

  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** The execution row `sql` (which returns EXECUTION_COLUMNS in order) reads or writes, if any. */
  executionRow(sql: string, ...params: unknown[]): ExecutionRow | undefined {
    const values = this.rowStatement(sql).get(...params) as unknown[] | undefined;
    return values === undefined ? undefined : rowFromValues(values);
  }

  executionRows(sql: string, ...params: unknown[]): ExecutionRow[] {
    return (this.rowStatement(sql).all(...params) as unknown[][]).map(rowFromValues);
  }

  private rowStatement(sql: string): Database.Statement {
    let statement = this.rowStatements.get(sql);
    if (!statement) {
      statement = prepareRowStatement(this.db, sql);
      this.rowStatements.set(sql, statement);
    }
    return statement;
  }
}

/** What every query module needs: the connection (for transactions) and its prepared statements. */
export interface Connection {
  readonly db: Database.Database;
  readonly sql: StatementCache;
}
