/** Opening a store's SQLite connection: the file (created if needed) and the pragmas every connection needs. */
import { type Stats, statSync } from "node:fs";
import Database from "better-sqlite3";
import { ZartError } from "../../core/errors.js";

/** How long a writer waits for another process's transaction before SQLITE_BUSY; transactions are short. */
const BUSY_TIMEOUT_MS = 5000;

/** `path` resolved already, or ":memory:" (a private database per store, for quick tests: no file, so no WAL). */
export function openDatabase(path: string, sync: "normal" | "full" | undefined): Database.Database {
  const inMemory = path === ":memory:";
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal" && !inMemory) throw new Error(`SQLite file ${path} refused WAL mode (journal_mode is ${String(mode)})`);
    db.pragma(`synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = OFF");
    // Statement journals in memory: with the status-count triggers, each status-changing UPDATE inside a
    // batch writes one, and in a temporary file it cost most of the UPDATE (docs/decisions/026-sqlite-temp-store.md).
    db.pragma("temp_store = MEMORY");
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * The file a connection opened, by device and inode. A file deleted or replaced while open keeps serving this
 * process (the connection holds the old inode), but nothing it writes reaches the path any other process or a
 * restart opens: readiness must fail so that the process is restarted.
 */
export class OpenedFile {
  private readonly opened: Stats;

  constructor(private readonly path: string) {
    this.opened = statSync(path);
  }

  /** Throws `store_unavailable` when the path no longer names the file that was opened. */
  check(): void {
    const now = statSync(this.path, { throwIfNoEntry: false });
    if (now !== undefined && now.dev === this.opened.dev && now.ino === this.opened.ino) return;
    throw new ZartError(
      "store_unavailable",
      `The SQLite file ${this.path} was ${now === undefined ? "deleted" : "replaced"} while this process had it open: restart the process`,
    );
  }
}
