/**
 * The worker side: claim, group-committed checkpoints, lease renewal and the next wake-up. Everything a
 * worker may pick up is found through `runnable_at`, so new work, due timers, ended backoffs and expired
 * leases (crash recovery) are all one query on one partial index.
 *
 * Measured on PostgreSQL 15.20 with 1,000,000 executions (88% completed, 3% failed, 1% cancelled,
 * 3% waiting, 1% running, 4% pending; 70,000 rows in the partial claim index, 6.9 MB vs 65-162 MB for the
 * other indexes), EXPLAIN ANALYZE:
 * - claim of 10: Index Scan on executions_runnable (Index Cond runnable_at <= now, task filtered on the
 *   row) -> LockRows -> Limit, then 10 primary-key updates: 0.09 ms to pick, 1.7 ms per claim over the
 *   wire including the commit (fsync on).
 * - worst case: a claim for tasks that have NO due rows while 63,000 due rows of other tasks wait (their
 *   workers are down) walks the whole claim index: 35 ms; nextWakeAt for such a task: 59 ms. Normal
 *   deployments (workers serve the tasks that have due work) never see it. The fix if it matters: a
 *   (task, runnable_at, id) partial index and a per-task LATERAL merge (measured 0.02-0.09 ms), at the
 *   price of one more index on the hot update path and over-locking rows of other tasks during a claim.
 * - steps of claimed executions: a correlated json_agg over steps_pkey per resumed row, in the claim itself.
 */

import { EXECUTION_COLUMNS, type ExecutionRow, STEP_COLUMNS, type StepRow, toExecution, toStep } from "../row-mapping.js";
import type { Checkpoint, ClaimedExecution, ClaimRequest, Fence, Notice } from "../store.js";
import { checkpointNotice, encodeBatch } from "./checkpoint-batch.js";
import { fitsOneStatement, foldedClaimSql, statementSql } from "./checkpoint-statement.js";
import { claimCountsSql } from "./count-deltas.js";
import { applySingle, fitsSingle } from "./single-checkpoint.js";
import { prepared, type SqlContext } from "./sql-context.js";

/**
 * One statement, one implicit transaction. `pick_due()` (migration 3) locks the oldest due rows with SKIP
 * LOCKED, so concurrent claimers take disjoint rows without waiting for each other (each row is claimed
 * exactly once), walking the claim index in order whatever the statistics say. It also reports whether the
 * row had started before and its old runnable_at (for "oldest first" ordering of the result; RETURNING
 * order is unspecified). A resumed execution's steps come back in the same statement (as JSON; numbers
 * stay exact below 2^53, which every stored timestamp and count is).
 */
/** The step columns as json_build_object arguments: key, value, key, value… */
const stepFields = STEP_COLUMNS.split(", ")
  .map((c) => `'${c}', st.${c}`)
  .join(", ");

function claimSql(s: string): string {
  const returned = EXECUTION_COLUMNS.split(", ")
    .map((c) => `e.${c}`)
    .join(", ");
  return `
    WITH picked AS MATERIALIZED (SELECT * FROM ${s}.pick_due($1, $2::text[], $3)),
    claimed AS (
      UPDATE ${s}.executions e
      SET status = 'running', lease_token = e.lease_token + 1, lease_owner = $4, runnable_at = $1::bigint + $5::bigint,
          started_at = COALESCE(e.started_at, $1), attempt = GREATEST(e.attempt, 1), updated_at = $1
      FROM picked WHERE e.id = picked.id
      RETURNING ${returned}, picked.fresh, picked.due_at, picked.old_status,
        CASE WHEN NOT picked.fresh THEN (
          SELECT json_agg(json_build_object(${stepFields}) ORDER BY st.started_at, st.name)
          FROM ${s}.steps st WHERE st.execution_id = e.id
        ) END AS steps_json
    )${claimCountsSql(s, "claimed")}
    SELECT * FROM claimed`;
}

type ClaimedRow = ExecutionRow & { fresh: boolean; due_at: number; steps_json: StepRow[] | null };

export async function claim(ctx: SqlContext, request: ClaimRequest): Promise<ClaimedExecution[]> {
  if (request.limit <= 0 || request.tasks.length === 0) return [];
  const { workerId, now, leaseMs } = request;
  const claimed = await ctx.pool.query<ClaimedRow>(
    prepared(ctx, "claim", () => claimSql(ctx.s), [now, request.tasks, request.limit, workerId, leaseMs]),
  );
  return toClaimed(claimed.rows);
}

/**
 * Oldest first. Executions that never ran have no steps; the others bring theirs in the same statement (a
 * resumed execution, e.g. after an event, is claimed and replayed with one round trip instead of two).
 */
function toClaimed(rows: ClaimedRow[]): ClaimedExecution[] {
  rows.sort((a, b) => a.due_at - b.due_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map((row) => ({ execution: toExecution(row), steps: (row.steps_json ?? []).map(toStep) }));
}

/**
 * A lone checkpoint of the common kinds goes through the lean statement of single-checkpoint.ts.
 * `oneStatementFrom`: batches of at least this many that fit go through the single prepared statement of
 * checkpoint-statement.ts (tests set 1 to send every batch there, lone checkpoints included); the others
 * through the in-order loop `apply_checkpoints()` (migration 3).
 */
export async function applyCheckpoints(
  ctx: SqlContext,
  batch: readonly Checkpoint[],
  oneStatementFrom: number,
): Promise<{ results: boolean[]; notices: Notice[] }> {
  if (batch.length === 0) return { results: [], notices: [] };
  const only = batch.length === 1 ? batch[0] : undefined;
  if (only && oneStatementFrom > 1 && fitsSingle(only)) {
    const task = await applySingle(ctx, only);
    return appliedResults(batch, task === null ? [] : [{ i: 0, applied: true, task_name: task }]);
  }
  const encoded = encodeBatch(batch);
  const query =
    batch.length >= oneStatementFrom && fitsOneStatement(batch)
      ? prepared(ctx, "checkpoints", () => statementSql(ctx.s), [encoded])
      : prepared(ctx, "checkpoint_loop", () => `SELECT i, applied, task_name FROM ${ctx.s}.apply_checkpoints($1::jsonb)`, [encoded]);
  const applied = await ctx.pool.query<AppliedRow>(query);
  return appliedResults(batch, applied.rows);
}

/**
 * A checkpoint batch and a claim in one statement (one round trip, one transaction) when the batch fits
 * the one-statement form; otherwise the two calls one after the other.
 */
export async function applyAndClaim(
  ctx: SqlContext,
  batch: readonly Checkpoint[],
  request: ClaimRequest,
  oneStatementFrom: number,
): Promise<{ results: boolean[]; notices: Notice[]; claimed: ClaimedExecution[] }> {
  if (batch.length === 0 || !fitsOneStatement(batch) || request.limit <= 0 || request.tasks.length === 0) {
    const { results, notices } = await applyCheckpoints(ctx, batch, oneStatementFrom);
    return { results, notices, claimed: await claim(ctx, request) };
  }
  const { now, tasks, limit, workerId, leaseMs } = request;
  const applied = await ctx.pool.query<AppliedRow & { claimed_json: ClaimedRow[] | null }>(
    prepared(ctx, "checkpoints_claim", () => statementSql(ctx.s, foldedClaimSql(ctx.s, stepFields)), [
      encodeBatch(batch),
      now,
      tasks,
      limit,
      workerId,
      leaseMs,
    ]),
  );
  const { results, notices } = appliedResults(batch, applied.rows);
  return { results, notices, claimed: toClaimed(applied.rows.find((row) => row.i === 0)?.claimed_json ?? []) };
}

type AppliedRow = { i: number; applied: boolean; task_name: string | null };

function appliedResults(batch: readonly Checkpoint[], rows: readonly AppliedRow[]): { results: boolean[]; notices: Notice[] } {
  const results = batch.map(() => false);
  const notices: Notice[] = [];
  for (const row of rows) {
    const checkpoint = batch[row.i];
    if (!row.applied || !checkpoint || row.task_name === null) continue;
    results[row.i] = true;
    const notice = checkpointNotice(checkpoint, row.task_name);
    if (notice) notices.push(notice);
  }
  return { results, notices };
}

export async function renewLeases(ctx: SqlContext, fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>> {
  if (fences.length === 0) return new Set();
  // Rows are locked in id order, the same order apply_checkpoints() takes them in, so a renewal and a
  // checkpoint batch of the same worker cannot deadlock.
  const renewed = await ctx.pool.query<{ id: string }>(
    // By primary key first, then status and token on the locked row (see migration 3 for the plan this avoids).
    `WITH locked AS MATERIALIZED (
       SELECT e.id, e.status, e.lease_token FROM ${ctx.s}.executions e WHERE e.id = ANY ($1::text[]) ORDER BY e.id FOR UPDATE
     ), held AS (
       SELECT l.id FROM locked l JOIN unnest($1::text[], $2::bigint[]) AS f(id, token) ON f.id = l.id
       WHERE l.status = 'running' AND l.lease_token = f.token
     )
     UPDATE ${ctx.s}.executions e SET runnable_at = $3::bigint FROM held WHERE e.id = held.id
     RETURNING e.id`,
    [fences.map((f) => f.executionId), fences.map((f) => f.leaseToken), now + leaseMs],
  );
  return new Set(renewed.rows.map((r) => r.id));
}

export async function nextWakeAt(ctx: SqlContext, tasks: readonly string[]): Promise<number | null> {
  if (tasks.length === 0) return null;
  // Reads the claim index in order and stops at the first row of one of these tasks.
  const row = await ctx.pool.query<{ runnable_at: number | null }>(
    prepared(ctx, "next_wake", () => `SELECT ${ctx.s}.next_wake($1::text[]) AS runnable_at`, [tasks]),
  );
  return row.rows[0]?.runnable_at ?? null;
}
