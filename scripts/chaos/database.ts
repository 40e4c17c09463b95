/**
 * The run's own connection to its private PostgreSQL, straight to the server (not through the proxy, so
 * a black hole does not blind the checks). The database restarts under it: a query that fails because
 * the server is down or its connection was cut is repeated until it succeeds or `retryForMs` passes.
 */
import { setTimeout as pause } from "node:timers/promises";
import pg from "pg";

/** The schema every Zart process of the run uses (the server is the run's own, so one name will do). */
export const SCHEMA = "chaos";

export class Database {
  private readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    private readonly retryForMs = 60_000,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, application_name: "chaos-checks" });
    // An idle connection cut by a restart or pg_terminate_backend is dropped by the pool; nothing to do.
    this.pool.on("error", () => {});
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const deadline = Date.now() + this.retryForMs;
    for (;;) {
      try {
        return (await this.pool.query<R>(sql, params)).rows;
      } catch (error) {
        if (!isConnectionError(error) || Date.now() > deadline) throw error;
        await pause(200);
      }
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Failures of the connection rather than of the statement: the server was down, restarting, or cut us off. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  // 57P01-57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
  if (/^57P0[1-3]$|^08/.test(code)) return true;
  const message = (error as Error).message ?? "";
  return /ECONNREFUSED|ECONNRESET|EPIPE|Connection terminated|terminating connection|not yet accepting|shutting down|timeout/i.test(
    message,
  );
}
