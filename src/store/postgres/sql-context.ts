/** What every query module needs: the pool and the quoted schema its tables live in. */

import { createHash } from "node:crypto";
import type pg from "pg";
import type { Logger } from "../../core/logger.js";

export interface SqlContext {
  pool: pg.Pool;
  /** Quoted schema name, e.g. `"zart"`. */
  s: string;
  /** For what a store call does after its commit and must not fail the call for (consequences.ts). */
  logger?: Logger;
  /** How long a transaction of ours may sit idle before PostgreSQL ends its session (default {@link IDLE_IN_TRANSACTION_MS}). */
  idleInTransactionMs?: number;
}

/**
 * Our transactions wait on nothing but their own statements, so one that sits idle has a stalled process
 * behind it (frozen, paused by its host, cut off between two statements). Its row locks would hide those
 * rows from every other worker's claim (SKIP LOCKED) for as long as it stalls, well past its lease.
 * PostgreSQL ends such a session; the stalled process finds its connection gone, as after any lost
 * connection. Set with `SET LOCAL` in the transaction's first round trip, not as a startup parameter,
 * which connection poolers may refuse. The default suits the default 30 s lease; see
 * {@link idleInTransactionFor} for shorter ones.
 */
export const IDLE_IN_TRANSACTION_MS = 10_000;

/**
 * The idle-in-transaction bound for processes whose workers hold leases of `leaseMs`: a quarter of the
 * lease, at most {@link IDLE_IN_TRANSACTION_MS}. A stalled transaction may hold a row that another,
 * healthy worker runs (a child's end answers its running parent; a delivery or a cancel reaches a
 * running execution). That worker's lease renewal locks all its rows in one statement, and its next
 * checkpoint batch waits behind its current one, so until the stalled session ends, none of its leases is
 * renewed and none of its steps is recorded. Renewals go out every third of the lease: a stall of at most
 * a quarter ends well before the lease from the previous renewal does, so the healthy worker keeps every
 * lease; a longer one would let them lapse and its steps run again elsewhere (RELIABILITY.md).
 */
export function idleInTransactionFor(leaseMs: number): number {
  return Math.max(1, Math.min(IDLE_IN_TRANSACTION_MS, Math.floor(leaseMs / 4)));
}

/**
 * A named (prepared) statement: PostgreSQL parses and plans it once per connection instead of on every call
 * (docs/decisions/001-prepared-statements.md). `build` runs once per schema and key (hot paths never
 * rebuild or re-hash their SQL); the name carries a hash of the text, so different schemas or versions
 * never collide.
 */
export function prepared(ctx: SqlContext, key: string, build: () => string, values: unknown[]): pg.QueryConfig {
  const { name, text } = named(ctx, key, () => ({ text: build(), names: [] }));
  return { name, text, values };
}

/**
 * A prepared statement generated with named parameters (statements.ts): `leading` fills the fixed
 * positions ($1…), then `params` the generated ones, by name.
 */
export function preparedWith(
  ctx: SqlContext,
  key: string,
  build: () => { text: string; names: readonly string[] },
  leading: unknown[],
  params: Readonly<Record<string, unknown>>,
): pg.QueryConfig {
  const { name, text, names } = named(ctx, key, build);
  const values = [...leading];
  for (const param of names) {
    const value = params[param];
    if (value === undefined) throw new Error(`statement ${key}: parameter "${param}" is missing`);
    values.push(value);
  }
  return { name, text, values };
}

interface NamedStatement {
  name: string;
  text: string;
  names: readonly string[];
}

function named(ctx: SqlContext, key: string, build: () => { text: string; names: readonly string[] }): NamedStatement {
  const cacheKey = `${ctx.s}\u0000${key}`;
  let statement = statements.get(cacheKey);
  if (statement === undefined) {
    const built = build();
    statement = { name: statementName(key, built.text), ...built };
    statements.set(cacheKey, statement);
  }
  return statement;
}

const statements = new Map<string, NamedStatement>();

/**
 * PostgreSQL keeps only the first 63 bytes of a name (NAMEDATALEN - 1), and node-postgres tells statements
 * apart by the whole name: two names alike in their first 63 characters would be one statement to the
 * server, and the second one prepared on a connection fails with 42P05 ("already exists"). So a long key is
 * cut, never the hash of the text, which is what tells statements apart.
 */
const MAX_NAME_CHARS = 63;

export function statementName(key: string, text: string): string {
  const hash = createHash("sha1").update(text).digest("hex").slice(0, 12);
  return `${`zart_${key}`.slice(0, MAX_NAME_CHARS - hash.length - 1)}_${hash}`;
}

/** Runs `work` inside BEGIN … COMMIT on one pooled client, rolling back (and discarding a broken client) on error. */
export async function inTransaction<T>(ctx: SqlContext, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await ctx.pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no error listener of the pool's: a backend terminated between two of our
  // statements would emit an unhandled 'error' and crash the process. Remember it; the next query fails.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    await client.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${ctx.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS}`);
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

/** SQLSTATEs of a transaction PostgreSQL rolled back to break a lock cycle (or a serialization conflict). */
const ROLLED_BACK = new Set(["40P01", "40001"]);
const ROLLED_BACK_ATTEMPTS = 5;

/**
 * {@link inTransaction}, run again when PostgreSQL rolled it back to break a deadlock: nothing of it
 * committed, so running it again is safe. For transactions that lock rows of more than one execution in
 * an order other writers may reverse (a cancel locks a parent, then its children; a child's end locks the
 * child, then its parent).
 */
export function inTransactionBreakingDeadlocks<T>(ctx: SqlContext, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return breakingDeadlocks(ctx, () => inTransaction(ctx, work));
}

/**
 * Runs `work` (one transaction, or one statement) again when PostgreSQL rolled it back to break a
 * deadlock (or a serialization conflict). Two batch inserts taking the same idempotency keys in different
 * orders wait on each other's keys, for one. `work` gets its attempt's number: the rolled-back statement
 * committed nothing, but work of several statements may have committed the ones before it.
 */
export async function breakingDeadlocks<T>(ctx: SqlContext, work: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= ROLLED_BACK_ATTEMPTS || typeof code !== "string" || !ROLLED_BACK.has(code)) throw error;
      ctx.logger?.debug({ err: error, attempt }, "transaction rolled back by PostgreSQL to break a deadlock; running it again");
    }
  }
}
