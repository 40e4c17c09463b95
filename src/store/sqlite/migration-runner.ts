import type Database from "better-sqlite3";
import type { Logger } from "../../core/logger.js";
import { latestVersion, loadMigrations, type Migration, refuseNewerSchema, requireCurrentSchema } from "../migration-files.js";

const createLedger = "CREATE TABLE IF NOT EXISTS zart_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)";

/** The SQLite store's migrations (src/store/sqlite/migrations/). */
export const migrations: readonly Migration[] = loadMigrations(new URL("./migrations/", import.meta.url));

function currentVersion(db: Database.Database): number {
  const row = db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM zart_migrations").get() as { v: number };
  return row.v;
}

function ledgerExists(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'zart_migrations'").get() !== undefined;
}

/**
 * Applies the pending migrations in one `BEGIN IMMEDIATE` transaction. The version is re-read after the
 * write lock is taken, so when several processes start at once the first applies everything and the others
 * find nothing left to do (they wait on the lock through busy_timeout rather than failing). A file that a
 * newer release migrated is refused (`SchemaTooNewError`), never run on or migrated back.
 */
export function runMigrations(db: Database.Database, all: readonly Migration[], logger: Logger): void {
  const latest = latestVersion(all);
  const where = `SQLite file ${db.name}`;
  // Fast path without the write lock: an up-to-date database costs two reads, not a lock round.
  if (ledgerExists(db)) {
    const applied = currentVersion(db);
    refuseNewerSchema(where, applied, all);
    if (applied >= latest) return;
  }

  const apply = db.transaction(() => {
    db.exec(createLedger);
    const from = currentVersion(db);
    refuseNewerSchema(where, from, all);
    const record = db.prepare("INSERT INTO zart_migrations (version, name) VALUES (?, ?)");
    for (const migration of all) {
      if (migration.version <= from) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name);
      logger.info({ version: migration.version, name: migration.name }, "sqlite migration applied");
    }
  });
  apply.immediate();
}

/** For a store opened without migrating: throws unless the file is at exactly this release's version. */
export function checkSchema(db: Database.Database, all: readonly Migration[]): void {
  requireCurrentSchema(`SQLite file ${db.name}`, ledgerExists(db) ? currentVersion(db) : 0, all);
}
