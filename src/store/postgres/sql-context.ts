/** What every query module needs: the pool and the quoted schema its tables live in. */
import type pg from "pg";

export interface SqlContext {
  pool: pg.Pool;
  /** Quoted schema name, e.g. `"zart"`. */
  s: string;
}

/** Runs `work` inside BEGIN … COMMIT on one pooled client, rolling back (and discarding a broken client) on error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no error listener of the pool's: a backend terminated between two of our
  // statements would emit an unhandled 'error' and crash the process. Remember it; the next query fails.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      // The connection itself is unusable: destroy it instead of handing it to the next caller.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}
