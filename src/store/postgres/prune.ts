/**
 * Retention on PostgreSQL (docs/retention.md): a prune round holds a session-level advisory lock on one
 * pooled connection for its whole length, so one process prunes a schema at a time; the lock goes with the
 * session, so a process that dies mid-round frees it. Each batch is one statement (its own transaction):
 * it picks up to `batchSize` finished rows of one status in (created_at, id) order from the list index
 * `executions_status_created` (a row that ended before the cutoff was created before it), locks them with
 * SKIP LOCKED (a row an operator is resuming right now is left for the next round), and deletes them with
 * their steps, attempts and buffered events. Counts stay exact: the statement-level DELETE trigger appends
 * the deltas. The next batch goes on from the last row picked, so rows kept (their family is not finished,
 * or they ended after the cutoff) are read once per round, not once per batch.
 * Why batches of 500 with a pause between them: docs/decisions/009-retention-pruning.md.
 */
import type pg from "pg";
import type { PruneOutcome, PruneRequest } from "../store.js";
import { prepared, type SqlContext } from "./sql-context.js";

/** Advisory lock class of prune rounds ("ZART" in ASCII, plus two); the second key is hashtext(schema). */
export const PRUNE_LOCK_CLASS = 1515870812;

const FINISHED = ["completed", "failed", "cancelled"] as const;
const UNFINISHED = "('pending', 'running', 'waiting')";

/** One batch of one status: $1 the cutoff, ($2, $3) the last row picked before, $4 the batch size. */
function batchSql(s: string, status: (typeof FINISHED)[number]): string {
  return `WITH picked AS (
  SELECT e.id, e.created_at FROM ${s}.executions e
  WHERE e.status = '${status}' AND e.created_at < $1 AND e.completed_at < $1 AND (e.created_at, e.id) > ($2::bigint, $3::text)
    AND NOT EXISTS (SELECT 1 FROM ${s}.executions c WHERE c.parent_id = e.id AND c.status IN ${UNFINISHED})
    AND NOT EXISTS (SELECT 1 FROM ${s}.executions p WHERE p.id = e.parent_id AND p.status IN ${UNFINISHED})
  ORDER BY e.created_at, e.id LIMIT $4
  FOR UPDATE OF e SKIP LOCKED
), gone AS (
  DELETE FROM ${s}.executions e USING picked WHERE e.id = picked.id RETURNING e.id
), gone_steps AS (
  DELETE FROM ${s}.steps WHERE execution_id IN (SELECT id FROM gone)
), gone_attempts AS (
  DELETE FROM ${s}.step_attempts WHERE execution_id IN (SELECT id FROM gone)
), gone_events AS (
  DELETE FROM ${s}.events WHERE execution_id IN (SELECT id FROM gone)
)
SELECT (SELECT count(*) FROM picked)::integer AS picked, (SELECT count(*) FROM gone)::integer AS deleted,
  last.created_at AS last_created_at, last.id AS last_id
FROM (SELECT 1) one LEFT JOIN (SELECT created_at, id FROM picked ORDER BY created_at DESC, id DESC LIMIT 1) last ON true`;
}

interface BatchRow {
  picked: number;
  deleted: number;
  last_created_at: number | null;
  last_id: string | null;
}

export async function pruneExecutions(ctx: SqlContext, schema: string, request: PruneRequest): Promise<PruneOutcome> {
  const client = await ctx.pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no error listener of the pool's (see inTransaction in sql-context.ts).
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    const locked = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked", [
      PRUNE_LOCK_CLASS,
      schema,
    ]);
    if (!locked.rows[0]?.locked) return { ran: false };
    try {
      return { ran: true, pruned: await pruneLocked(ctx, client, request) };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [PRUNE_LOCK_CLASS, schema]).catch((error: unknown) => {
        // The session is unusable: destroying it is what frees the lock.
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

async function pruneLocked(ctx: SqlContext, client: pg.PoolClient, request: PruneRequest): Promise<number> {
  let pruned = 0;
  for (const status of FINISHED) {
    let after: [number, string] = [Number.MIN_SAFE_INTEGER, ""];
    for (;;) {
      const values = [request.completedBefore, after[0], after[1], request.batchSize];
      const result = await client.query<BatchRow>(prepared(ctx, `prune_${status}`, () => batchSql(ctx.s, status), values));
      const row = result.rows[0] as BatchRow;
      if (row.picked === 0 || row.last_id === null) break;
      pruned += row.deleted;
      if (!(await request.afterBatch(row.deleted))) return pruned;
      if (row.picked < request.batchSize) break;
      after = [row.last_created_at as number, row.last_id];
    }
  }
  return pruned;
}
