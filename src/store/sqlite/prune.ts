/**
 * Retention on SQLite (docs/retention.md). Several processes may share the file, so a prune round first
 * takes the `prune` lease (migrations/0002-leases.sql): one process at a time prunes, and a process that
 * dies mid-round lets another take over once its lease has expired. Each batch is one IMMEDIATE
 * transaction that renews the lease, picks up to `batchSize` finished rows of one status in (created_at,
 * id) order from the list index (a row that ended before the cutoff was created before it) and deletes them
 * with their steps, attempts and buffered events; the DELETE trigger keeps the counts exact. Between
 * batches the write lock is free (the caller pauses), and the next batch goes on from the last row picked.
 */
import type { PruneOutcome, PruneRequest } from "../store.js";
import type { Connection } from "./statement-cache.js";

/** How long a lease outlives its last renewal: far longer than a batch, short enough to take over soon. */
export const PRUNE_LEASE_MS = 60_000;

const FINISHED = ["completed", "failed", "cancelled"] as const;
const UNFINISHED = "('pending', 'running', 'waiting')";

const TAKE_LEASE = `INSERT INTO leases (name, holder, expires_at) VALUES ('prune', @holder, @expires)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`;
const RENEW_LEASE = "UPDATE leases SET expires_at = @expires WHERE name = 'prune' AND holder = @holder";
const DROP_LEASE = "DELETE FROM leases WHERE name = 'prune' AND holder = ?";

const pick = (status: string) => `SELECT e.id, e.created_at FROM executions e INDEXED BY executions_status_created
  WHERE e.status = '${status}' AND e.created_at < @cutoff AND e.completed_at < @cutoff
    AND (e.created_at, e.id) > (@after_created, @after_id)
    AND NOT EXISTS (SELECT 1 FROM executions c WHERE c.parent_id = e.id AND c.status IN ${UNFINISHED})
    AND NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = e.parent_id AND p.status IN ${UNFINISHED})
  ORDER BY e.created_at, e.id LIMIT @limit`;
const PICK: Readonly<Record<string, string>> = Object.fromEntries(FINISHED.map((status) => [status, pick(status)]));
const IDS = "SELECT value FROM json_each(?)";
const DELETES = [
  `DELETE FROM steps WHERE execution_id IN (${IDS})`,
  `DELETE FROM step_attempts WHERE execution_id IN (${IDS})`,
  `DELETE FROM events WHERE execution_id IN (${IDS})`,
  `DELETE FROM executions WHERE id IN (${IDS})`,
];

interface Batch {
  /** false: the lease was lost (it expired and another process took it). */
  held: boolean;
  deleted: number;
  last: { created_at: number; id: string } | null;
}

export async function pruneExecutions(conn: Connection, request: PruneRequest): Promise<PruneOutcome> {
  const { holder } = request;
  const now = request.now();
  if (conn.sql.get(TAKE_LEASE).run({ holder, expires: now + PRUNE_LEASE_MS, now }).changes === 0) return { ran: false };
  let pruned = 0;
  try {
    for (const status of FINISHED) {
      let after = { created_at: Number.MIN_SAFE_INTEGER, id: "" };
      for (;;) {
        const batch = runBatch(conn, request, status, after);
        if (!batch.held) return { ran: true, pruned };
        if (batch.last === null) break;
        pruned += batch.deleted;
        if (!(await request.afterBatch(batch.deleted))) return { ran: true, pruned };
        if (batch.deleted < request.batchSize) break;
        after = batch.last;
      }
    }
    return { ran: true, pruned };
  } finally {
    if (conn.db.open) conn.sql.get(DROP_LEASE).run(holder);
  }
}

function runBatch(conn: Connection, request: PruneRequest, status: string, after: { created_at: number; id: string }): Batch {
  const batch = conn.db.transaction((): Batch => {
    const renewed = conn.sql.get(RENEW_LEASE).run({ holder: request.holder, expires: request.now() + PRUNE_LEASE_MS });
    if (renewed.changes === 0) return { held: false, deleted: 0, last: null };
    const rows = conn.sql.get(PICK[status] as string).all({
      cutoff: request.completedBefore,
      after_created: after.created_at,
      after_id: after.id,
      limit: request.batchSize,
    }) as { id: string; created_at: number }[];
    const last = rows.at(-1) ?? null;
    if (last === null) return { held: true, deleted: 0, last };
    const ids = JSON.stringify(rows.map((r) => r.id));
    for (const sql of DELETES) conn.sql.get(sql).run(ids);
    return { held: true, deleted: rows.length, last };
  });
  return batch.immediate();
}
