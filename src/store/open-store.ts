/**
 * Chooses the store from a URL: `postgres://` / `postgresql://` for PostgreSQL; a file path,
 * `sqlite:<path>` or `file:<path>` for SQLite (default `./zart.db`).
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Store } from "./store.js";

export interface OpenStoreOptions {
  /** PostgreSQL schema that holds Zart's tables (default `zart`). */
  schema?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** SQLite `synchronous` pragma: `normal` (default; survives kill -9) or `full` (also survives power loss). */
  sqliteSync?: "normal" | "full";
  /** Safety poll for cross-process notices the store cannot push (ms). */
  logger?: Logger;
  clock?: Clock;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function sqlitePathFromUrl(url: string): string {
  if (url.startsWith("sqlite://")) return url.slice("sqlite://".length);
  if (url.startsWith("sqlite:")) return url.slice("sqlite:".length);
  if (url.startsWith("file:")) return url.slice("file:".length);
  return url;
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(url)) {
    const { PostgresStore } = await import("./postgres/postgres-store.js");
    return PostgresStore.connect({ url, schema: options.schema, poolSize: options.poolSize, logger: options.logger });
  }
  const { SqliteStore } = await import("./sqlite/sqlite-store.js");
  return SqliteStore.open({ path: sqlitePathFromUrl(url), sync: options.sqliteSync, logger: options.logger });
}
