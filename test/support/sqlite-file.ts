/**
 * Reads a SQLite file read-only beside the processes that write it: the ground truth the fuzz runs
 * compare the API's counts with, and what the fault tests check after a crash or a full disk.
 */
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { EXECUTION_STATUSES } from "../../src/core/types.js";

export { EXECUTION_STATUSES };

/** Runs `read` on a read-only connection to the file, closed afterwards. */
export function readSqliteFile<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The file's migration ledger, oldest first. */
export function migrationLedger(dbPath: string): { version: number; name: string }[] {
  return readSqliteFile(
    dbPath,
    (db) => db.prepare("SELECT version, name FROM zart_migrations ORDER BY version").all() as { version: number; name: string }[],
  );
}

/** Row counts in `EXECUTION_STATUSES` order (0 for a status with no rows). */
export function storedCountsByStatus(dbPath: string): number[] {
  const counted = readSqliteFile(
    dbPath,
    (db) => db.prepare("SELECT status, count(*) AS n FROM executions GROUP BY status").all() as Array<{ status: string; n: number }>,
  );
  return EXECUTION_STATUSES.map((s) => counted.find((c) => c.status === s)?.n ?? 0);
}

/** `<execution> <step>` of every step recorded as completed. */
export function completedSteps(dbPath: string): Set<string> {
  const rows = readSqliteFile(
    dbPath,
    (db) =>
      db.prepare("SELECT execution_id, name FROM steps WHERE state = 'completed'").all() as Array<{ execution_id: string; name: string }>,
  );
  return new Set(rows.map((row) => `${row.execution_id} ${row.name}`));
}

/** The file passes SQLite's integrity check and holds exactly `executions` executions. */
export function assertIntactWith(dbPath: string, executions: number): void {
  readSqliteFile(dbPath, (db) => {
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    const { n } = db.prepare("SELECT count(*) AS n FROM executions").get() as { n: number };
    assert.equal(n, executions, "exactly the acknowledged executions are stored");
  });
}
