/**
 * Chooses the store from a URL: `postgres://` / `postgresql://` for PostgreSQL; a file path,
 * `sqlite:<path>` or `file:<path>` for SQLite (default `./zart.db`).
 */
import { resolve } from "node:path";
import type { Logger } from "../core/logger.js";
import type { Store } from "./store.js";

export interface OpenStoreOptions {
  /** PostgreSQL schema that holds Zart's tables (default `zart`). */
  schema?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: how long a transaction may sit idle (its process stalled) before the database ends it (default 10,000 ms). */
  idleInTransactionMs?: number;
  /** SQLite `synchronous` pragma: `normal` (default; survives kill -9) or `full` (also survives power loss). */
  sqliteSync?: "normal" | "full";
  /** Store-level logs (migrations applied, reconnects). */
  logger?: Logger;
  /** New executions that may wait for a shared insert before `createExecution` answers `overloaded` (default 10,000). */
  maxQueuedInserts?: number;
}

function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * `./zart.db`, `sqlite:./zart.db`, `file:/var/lib/zart.db`, optionally with `?sync=full` (fsync every
 * commit: survives power loss, slower) or `?sync=normal` (the default: survives kill -9).
 */
export function splitSqliteUrl(url: string): { path: string; sync?: "normal" | "full" } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  // Another database's URL would otherwise be taken for a file path and fail on a directory that does not exist.
  if (scheme !== undefined && !["sqlite", "file"].includes(scheme.toLowerCase())) {
    throw new RangeError(`Unsupported database URL "${scheme}://…": use postgres:// for PostgreSQL, or a file path for SQLite`);
  }
  const [location = "", query] = url.split("?", 2) as [string, string | undefined];
  let path = location;
  for (const prefix of ["sqlite://", "sqlite:", "file:"]) {
    if (path.startsWith(prefix)) {
      path = path.slice(prefix.length);
      break;
    }
  }
  const sync = new URLSearchParams(query ?? "").get("sync");
  if (sync !== null && sync !== "normal" && sync !== "full") throw new RangeError(`sync must be "normal" or "full", got "${sync}"`);
  return { path, sync: sync ?? undefined };
}

/**
 * Zart's own settings may ride on the Postgres URL, so every command takes them the same way:
 * `postgres://host/db?schema=zart_prod&pool_size=20`. They are removed before the URL reaches `pg`.
 */
export function splitPostgresUrl(url: string): { connectionUrl: string; schema?: string; poolSize?: number } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? undefined;
  const pool = parsed.searchParams.get("pool_size");
  parsed.searchParams.delete("schema");
  parsed.searchParams.delete("pool_size");
  const poolSize = pool === null ? undefined : Number(pool);
  if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1))
    throw new RangeError(`pool_size must be a positive integer, got "${pool}"`);
  return { connectionUrl: parsed.toString(), schema, poolSize };
}

/**
 * Checks a database URL as {@link openStore} would, without opening anything: its scheme, the settings
 * on it and the PostgreSQL schema name. Throws the error opening it would. The schema-name rule is
 * PostgreSQL's connection module's, loaded (with its driver) only for a `postgres://` URL.
 */
export async function checkDatabaseUrl(url: string): Promise<void> {
  if (!isPostgresUrl(url)) {
    splitSqliteUrl(url);
    return;
  }
  const { schema } = splitPostgresUrl(url);
  if (schema === undefined) return;
  const { validateSchemaName } = await import("./postgres/connection.js");
  validateSchemaName(schema);
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(url)) {
    const { PostgresStore } = await import("./postgres/postgres-store.js");
    const { connectionUrl, schema, poolSize } = splitPostgresUrl(url);
    return PostgresStore.connect({
      url: connectionUrl,
      schema: schema ?? options.schema,
      poolSize: poolSize ?? options.poolSize,
      idleInTransactionMs: options.idleInTransactionMs,
      logger: options.logger,
      maxQueuedInserts: options.maxQueuedInserts,
    });
  }
  const { SqliteStore } = await import("./sqlite/sqlite-store.js");
  const { path, sync } = splitSqliteUrl(url);
  try {
    return await SqliteStore.open({
      path,
      sync: sync ?? options.sqliteSync,
      logger: options.logger,
      maxQueuedInserts: options.maxQueuedInserts,
    });
  } catch (error) {
    throw namingSqliteFile(path, error);
  }
}

/**
 * SQLite's own messages name no file ("file is not a database", "unable to open database file", "attempt to
 * write a readonly database" for a directory the process cannot write): the same error, with the path in front.
 * `code` (`SQLITE_NOTADB`, …) and the original error (`cause`) are kept.
 */
function namingSqliteFile(path: string, error: unknown): unknown {
  const file = path === ":memory:" ? path : resolve(path);
  if (!(error instanceof Error) || error.message.includes(file)) return error;
  const named = new Error(`Cannot open the SQLite database ${file}: ${error.message}`, { cause: error });
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.assign(named, { code });
  return named;
}
