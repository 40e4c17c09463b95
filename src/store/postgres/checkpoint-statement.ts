/**
 * A checkpoint batch as ONE prepared SQL statement (data-modifying CTEs, no plpgsql): fence, steps,
 * attempts and the execution rows in a single round trip and implicit transaction.
 *
 * Measured with `bench/src/probe-checkpoint-batches.ts` (PostgreSQL 15.20, fsync on, batches of completions
 * with one step each, 50,000-row table), this statement vs the per-checkpoint plpgsql loop
 * `apply_checkpoints()`, median ms per batch: 1 checkpoint 0.53 vs 0.50, 4: 0.72 vs 0.83, 16: 1.25 vs 1.90,
 * 64: 2.95 vs 4.79. (A plpgsql function running the same statements one after another, tried and dropped,
 * cost 0.90 ms for 1 and 3.25 ms for 64 in a one-off run.) So the store uses it from 2 checkpoints up, when
 * it can:
 *
 * All CTEs see one snapshot, so the statement cannot promise "in order" for two writes of one execution,
 * nor read steps that the same statement writes. Batches with a repeated execution (parallel steps of
 * one execution) or a task-level retry (deletes failed steps, then recounts) take the loop instead.
 *
 * The fence locks rows by primary key (`= ANY(...)`, id order: the same order as every other batch and
 * lease renewal, so no deadlocks), then checks status and token on what it locked: under READ COMMITTED a
 * locking read returns the latest version of a row changed concurrently, so a cancel that won the race
 * fences us out.
 */
import type { Checkpoint } from "../store.js";
import { checkpointCountsSql, claimCountsSql } from "./count-deltas.js";

/** Whether `statementSql` may apply this batch (see the header). */
export function fitsOneStatement(batch: readonly Checkpoint[]): boolean {
  const ids = new Set<string>();
  for (const checkpoint of batch) {
    const patch = checkpoint.execution;
    if (patch.status === "requeue" && patch.retryAttempt !== undefined) return false;
    if (ids.has(checkpoint.fence.executionId)) return false;
    ids.add(checkpoint.fence.executionId);
  }
  return true;
}

const STEP_SET = `
    kind = excluded.kind, state = excluded.state, result = excluded.result, error = excluded.error,
    attempts = excluded.attempts, wake_at = excluded.wake_at, schema = excluded.schema,
    started_at = excluded.started_at, completed_at = excluded.completed_at`;

/**
 * The CTEs `steps_written` and `attempts_written`: a checkpoint's step rows (upserted) and failed attempts
 * (appended) from JSON, for the executions `source` yields (only fenced rows: nothing is written for a
 * checkpoint that was fenced out). `id` names the execution id in `source`.
 */
export function stepWritesSql(s: string, source: string, id: string, steps: string, attempts: string): string {
  return `steps_written AS (
  INSERT INTO ${s}.steps AS st (execution_id, name, kind, state, result, error, attempts, wake_at, schema, started_at, completed_at)
  SELECT ${id}, x.name, x.kind, x.state, x.result, x.error, x.attempts, x.wake_at, x.schema, x.started_at, x.completed_at
  FROM ${source}, jsonb_to_recordset(${steps}) AS x(name text, kind text, state text, result text,
    error text, attempts integer, wake_at bigint, schema text, started_at bigint, completed_at bigint)
  ON CONFLICT (execution_id, name) DO UPDATE SET ${STEP_SET}
),
attempts_written AS (
  INSERT INTO ${s}.step_attempts (execution_id, step, attempt, started_at, ended_at, error)
  SELECT ${id}, x.step, x.attempt, x.started_at, x.ended_at, x.error
  FROM ${source},
    jsonb_to_recordset(${attempts}) AS x(step text, attempt integer, started_at bigint, ended_at bigint, error text)
  ON CONFLICT DO NOTHING
)`;
}

/**
 * The claim folded into the same statement (`statementSql(s, claimSql)`): $2 now, $3 tasks, $4 limit,
 * $5 worker, $6 lease. It never picks a row of the batch (those are locked by this statement already),
 * and reads steps from the snapshot before the statement, which is right because picked rows are not
 * written by it. The row of checkpoint 0 carries all claimed rows (with steps of resumed ones) as JSON.
 */
export function foldedClaimSql(s: string, stepFields: string): { ctes: string; column: string } {
  return {
    ctes: `,
picked AS MATERIALIZED (SELECT * FROM ${s}.pick_due($2, $3::text[], $4, ARRAY(SELECT c.id FROM c))),
claimed AS (
  UPDATE ${s}.executions e
  SET status = 'running', lease_token = e.lease_token + 1, lease_owner = $5, runnable_at = $2::bigint + $6::bigint,
      started_at = COALESCE(e.started_at, $2), attempt = GREATEST(e.attempt, 1), updated_at = $2
  FROM picked WHERE e.id = picked.id
  RETURNING e.*, picked.fresh, picked.due_at, picked.old_status,
    CASE WHEN NOT picked.fresh THEN (
      SELECT json_agg(json_build_object(${stepFields}) ORDER BY st.started_at, st.name)
      FROM ${s}.steps st WHERE st.execution_id = e.id
    ) END AS steps_json
)${claimCountsSql(s, "claimed")}`,
    // On the first checkpoint's row only: repeated on every row it was the bulk of the reply (and of Node's
    // CPU: W0 with prefetch went from ~45 to ~120 µs per execution).
    column: ", CASE WHEN c.i = 0 THEN (SELECT json_agg(row_to_json(cl)) FROM claimed cl) END AS claimed_json",
  };
}

/** $1: the batch as built by `encodeBatch`. Returns one row per checkpoint: i, applied, task_name. */
export function statementSql(s: string, folded?: { ctes: string; column: string }): string {
  return `
WITH c AS MATERIALIZED (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(i integer, id text, token bigint, now bigint, steps jsonb, attempts jsonb, patch jsonb)
),
-- Locked by primary key alone; status and token are checked on the locked (latest) row versions. With
-- "status = 'running'" in this WHERE the planner walked executions_status_created over every running row.
candidates AS MATERIALIZED (
  SELECT e.id, e.task, e.status, e.lease_token FROM ${s}.executions e
  WHERE e.id = ANY (ARRAY(SELECT c.id FROM c))
  ORDER BY e.id FOR UPDATE
),
locked AS MATERIALIZED (
  SELECT k.id, k.task FROM candidates k JOIN c ON c.id = k.id WHERE k.status = 'running' AND k.lease_token = c.token
),
${stepWritesSql(s, "locked l JOIN c ON c.id = l.id", "l.id", "c.steps", "c.attempts")},
-- Each column keeps its value unless the patch's kind sets it (the same effects as apply_patch()).
rows_written AS (
  UPDATE ${s}.executions e SET
    status = CASE p.kind WHEN 'running' THEN e.status
      WHEN 'requeue' THEN CASE WHEN p.run_at <= c.now THEN 'pending' ELSE 'waiting' END
      ELSE p.kind END,
    current_step = CASE WHEN p.kind IN ('running', 'waiting') THEN p.current_step END,
    waiting_for_event = CASE p.kind WHEN 'running' THEN e.waiting_for_event WHEN 'waiting' THEN p.waiting_for_event END,
    steps_completed = CASE WHEN p.kind = 'requeue' THEN e.steps_completed ELSE p.steps_completed END,
    runnable_at = CASE p.kind WHEN 'running' THEN e.runnable_at WHEN 'waiting' THEN p.wake_at WHEN 'requeue' THEN p.run_at END,
    lease_owner = CASE WHEN p.kind = 'running' THEN e.lease_owner END,
    output = CASE WHEN p.kind = 'completed' THEN p.output ELSE e.output END,
    error = CASE WHEN p.kind = 'failed' THEN p.error ELSE e.error END,
    completed_at = CASE WHEN p.kind IN ('completed', 'failed') THEN c.now ELSE e.completed_at END,
    updated_at = c.now
  FROM locked l JOIN c ON c.id = l.id,
    LATERAL (SELECT c.patch->>'status' AS kind, c.patch->>'currentStep' AS current_step,
      c.patch->>'waitingForEvent' AS waiting_for_event, (c.patch->>'stepsCompleted')::integer AS steps_completed,
      (c.patch->>'wakeAt')::bigint AS wake_at, (c.patch->>'runAt')::bigint AS run_at,
      c.patch->>'outputJson' AS output, c.patch->>'error' AS error) AS p
  WHERE e.id = l.id
  RETURNING e.task, e.status
)${checkpointCountsSql(s, "rows_written")}${folded?.ctes ?? ""}
SELECT c.i, l.id IS NOT NULL AS applied, l.task AS task_name${folded?.column ?? ""} FROM c LEFT JOIN locked l ON l.id = c.id`;
}
