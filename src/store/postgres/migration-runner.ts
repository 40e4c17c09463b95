/**
 * Applies pending migrations safely when many processes start at once: everything happens in one
 * transaction under a transaction-scoped advisory lock keyed by the schema name, and the applied versions
 * are re-read after the lock is granted. The first process applies; the others wait on the lock, then find
 * nothing left to do. `CREATE SCHEMA IF NOT EXISTS` runs under the lock too: two concurrent
 * `IF NOT EXISTS` creations can still collide on the catalog's unique index without it. A schema that a
 * newer release migrated is refused (`SchemaTooNewError`), never run on or migrated back.
 */
import type pg from "pg";
import type { Logger } from "../../core/logger.js";
import { latestVersion, loadMigrations, type Migration, refuseNewerSchema, requireCurrentSchema } from "../migration-files.js";

/** The PostgreSQL store's migrations (src/store/postgres/migrations/), written for the schema `zart`. */
export const migrations: readonly Migration[] = loadMigrations(new URL("./migrations/", import.meta.url));

/** A migration's SQL for the configured schema (`s`: the quoted schema name). */
export function forSchema(sql: string, s: string): string {
  return s === '"zart"' ? sql : sql.replace(/\bzart\.(?=[a-z_])/g, `${s}.`);
}

interface MigrationContext {
  /** Quoted schema name, e.g. `"zart"`. */
  s: string;
}

/** Advisory lock class for migrations ("ZART" in ASCII, minus one); the second key is hashtext(schema). */
export const MIGRATION_LOCK_CLASS = 1515870809;

export async function runMigrations(
  pool: pg.Pool,
  schema: string,
  context: MigrationContext,
  all: readonly Migration[],
  logger: Logger,
): Promise<void> {
  const latest = latestVersion(all);
  const where = `PostgreSQL schema ${context.s}`;
  const applied = await appliedVersion(pool, context);
  refuseNewerSchema(where, applied, all);
  if (applied >= latest) return;

  const client = await pool.connect();
  let failed: unknown = null;
  // Checked-out clients have no pool error listener; see inTransaction() in sql-context.ts.
  const onError = (error: Error) => {
    failed = error;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [MIGRATION_LOCK_CLASS, schema]);
    // Only when missing: CREATE SCHEMA checks the CREATE privilege on the database even with IF NOT EXISTS,
    // and a role that owns a schema its DBA made for it may lack that privilege.
    const schemaRow = await client.query<{ present: boolean }>("SELECT to_regnamespace($1) IS NOT NULL AS present", [context.s]);
    if (!schemaRow.rows[0]?.present) await client.query(`CREATE SCHEMA IF NOT EXISTS ${context.s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${context.s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::integer AS v FROM ${context.s}.migrations`);
    const from = done.rows[0]?.v ?? 0;
    refuseNewerSchema(where, from, all);
    for (const migration of all) {
      if (migration.version <= from) continue;
      await client.query(forSchema(migration.sql, context.s));
      await client.query(`INSERT INTO ${context.s}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      logger.info({ version: migration.version, name: migration.name, schema }, "postgres migration applied");
    }
    await client.query("COMMIT");
  } catch (error) {
    failed = error;
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.removeListener("error", onError);
    // A client whose transaction failed oddly is discarded rather than returned to the pool.
    client.release(failed instanceof Error ? failed : undefined);
  }
}

/** For a store opened without migrating: throws unless the schema is at exactly this release's version. */
export async function checkSchema(pool: pg.Pool, context: MigrationContext, all: readonly Migration[]): Promise<void> {
  requireCurrentSchema(`PostgreSQL schema ${context.s}`, await appliedVersion(pool, context), all);
}

/** Fast path without the lock: an up-to-date schema costs one read. */
async function appliedVersion(pool: pg.Pool, context: MigrationContext): Promise<number> {
  const exists = await pool.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${context.s}.migrations`]);
  if (!exists.rows[0]?.present) return 0;
  const row = await pool.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::integer AS v FROM ${context.s}.migrations`);
  return row.rows[0]?.v ?? 0;
}
