import type Database from "better-sqlite3";

/**
 * Prepares each SQL text once per connection. Statements are prepared on first use rather than at open,
 * because the tables do not exist until `migrate()` has run.
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** What every query module needs: the connection (for transactions) and its prepared statements. */
export interface Connection {
  readonly db: Database.Database;
  readonly sql: StatementCache;
}
