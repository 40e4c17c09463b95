/**
 * Whether a failed store call may succeed if repeated. Transient: the store is unreachable or busy
 * (connection lost, lock or serialization conflicts, a full disk, too many connections), and the same
 * request can go through later. Anything else is deterministic - the request itself is refused (a value the
 * database cannot hold, a constraint) - and repeating it only repeats the failure.
 */
import { type FailureCode, ZartError } from "../core/errors.js";

/**
 * PostgreSQL SQLSTATE classes and codes that say nothing about the request itself. 25P03: the server ended
 * a session whose transaction sat idle (its process stalled); a statement sent as it did gets that code.
 */
const TRANSIENT_SQLSTATE = /^(08|25P03|40|53|55P03|57P0|57014|58)/;
const TRANSIENT_SQLITE = new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_PROTOCOL", "SQLITE_CANTOPEN"]);

/** A primary code of TRANSIENT_SQLITE, or one of its extended codes (`SQLITE_IOERR_WRITE`, …). */
function isTransientSqliteCode(code: string): boolean {
  return TRANSIENT_SQLITE.has(code) || [...TRANSIENT_SQLITE].some((c) => code.startsWith(`${c}_`));
}

export function isTransientStoreError(error: unknown): boolean {
  if (error instanceof ZartError) return error.code === "store_unavailable" || error.code === "overloaded";
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return true; // unknown: give it the benefit of a retry
  if (code.startsWith("SQLITE_")) return isTransientSqliteCode(code);
  if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.test(code);
  return true;
}

/**
 * SQLite's "cannot do it now" failures (a full disk, an I/O error, a file it cannot open, a lock held past
 * the busy timeout) as the contract's `store_unavailable`: they are not the request's fault, and the same
 * request can succeed once the cause is gone. Null for anything else.
 */
export function sqliteUnavailable(error: unknown): ZartError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_") || !isTransientSqliteCode(code)) return null;
  const reason = error instanceof Error ? error.message : code;
  return new ZartError("store_unavailable", `The database cannot serve the request right now: ${reason}`, { cause: error });
}

/**
 * Default bound on new executions waiting for a shared insert (per store): beyond it `createExecution`
 * refuses at once with `overloaded` (HTTP 503 with `Retry-After`) instead of queueing without limit
 * while the database is slower than the load. Each waiting insert holds its input in memory.
 */
export const DEFAULT_MAX_QUEUED_INSERTS = 10_000;

export function overloadedError(limit: number): ZartError {
  return new ZartError(
    "overloaded",
    `The server has ${limit} new executions waiting to be stored (the database is slower than the load); retry shortly`,
  );
}

/** A checkpoint the store refused for good (see isTransientStoreError); the run fails its execution with it. */
export class CheckpointRejectedError extends Error {
  readonly code = "checkpoint_rejected" satisfies FailureCode;
  constructor(cause: unknown) {
    super(`The store refused to record this execution's progress: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "CheckpointRejectedError";
  }
}
