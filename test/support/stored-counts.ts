/**
 * The executions stored per status, read straight from a SQLite file beside the server that writes it:
 * the ground truth the API's `/stats` and list totals are compared with after a fuzz run.
 */
import Database from "better-sqlite3";
import { EXECUTION_STATUSES } from "../../src/core/types.js";

export { EXECUTION_STATUSES };

/** Row counts in `EXECUTION_STATUSES` order (0 for a status with no rows). */
export function storedCountsByStatus(dbPath: string): number[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const counted = db.prepare("SELECT status, count(*) AS n FROM executions GROUP BY status").all() as Array<{
      status: string;
      n: number;
    }>;
    return EXECUTION_STATUSES.map((s) => counted.find((c) => c.status === s)?.n ?? 0);
  } finally {
    db.close();
  }
}
