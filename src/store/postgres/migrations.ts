/**
 * Numbered schema migrations for the PostgreSQL store. A released entry is never edited: a change is a new
 * entry with the next number (`CREATE OR REPLACE FUNCTION` for a changed function). The tables mirror the
 * SQLite store's under the same numbers. Each entry is a template over the (validated, quoted) schema name
 * and the schema's NOTIFY channel, because several installations may share one database.
 *
 * Data model, in short: `executions` holds one row per run; `runnable_at` is the single "when may a worker
 * take this row" column (new work, timers, backoffs and lease expiry alike), so one partial index serves the
 * claim query and stays small because terminal rows and event-only waits keep it NULL.
 *
 * Counts without scanning `executions`: SQLite keeps `status_counts` with in-place `n = n + 1` triggers,
 * which is fine behind a single writer lock. On PostgreSQL the same trigger would make every transaction
 * that changes a status update one of a handful of hot rows (one per task and status), so all workers and
 * API servers would queue on those row locks until commit. Instead a trigger only INSERTS into
 * `count_deltas` (inserts never conflict), and `compact_counts()` - run periodically by every store under
 * `pg_try_advisory_xact_lock`, so at most one at a time and nobody waits - folds the deltas into
 * `status_counts` in one transaction. Readers sum both tables in one statement (one snapshot), so a
 * compaction is invisible to them and the count is exact at every instant.
 *
 * There are no NOTIFY triggers on purpose: notices are published right after commit (see publisher.ts for
 * the measured reason).
 */
import { executionsSchema } from "./migrations/0001-initial-schema.js";
import { checkpointFunctions } from "./migrations/0002-checkpoint-functions.js";
import { stableHotPaths } from "./migrations/0003-stable-hot-paths.js";
import { fewerIndexWrites } from "./migrations/0004-fewer-index-writes.js";
import { listFunction } from "./migrations/0005-list-function.js";
import { deliverAndFinish } from "./migrations/0006-deliver-and-finish.js";

export interface MigrationContext {
  /** Quoted schema name, e.g. `"zart"`. */
  s: string;
  /** NOTIFY channel name (an identifier, safe inside a SQL string literal); for migrations that need it. */
  channel: string;
}

export interface Migration {
  version: number;
  name: string;
  sql: (context: MigrationContext) => string;
}

export const migrations: readonly Migration[] = [
  { version: 1, name: "initial-schema", sql: executionsSchema },
  { version: 2, name: "checkpoint-functions", sql: checkpointFunctions },
  { version: 3, name: "stable-hot-paths", sql: stableHotPaths },
  { version: 4, name: "fewer-index-writes", sql: fewerIndexWrites },
  { version: 5, name: "list-function", sql: listFunction },
  { version: 6, name: "deliver-and-finish", sql: deliverAndFinish },
];
