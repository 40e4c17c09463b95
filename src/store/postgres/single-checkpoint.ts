/**
 * One checkpoint alone - what an execution running by itself writes: a step record, or its completion or
 * failure - as one lean prepared statement: the fenced UPDATE of the execution row, then its step rows.
 *
 * The batch forms lock the row first (a FOR UPDATE by primary key, then status and token checked on it) and
 * go through plpgsql or a CTE chain built for many rows. For one row the UPDATE can fence by itself: under
 * READ COMMITTED an UPDATE that waited for a concurrent change re-checks its WHERE on the latest row version,
 * so a cancel that won the race fences us out, and nothing else is written (the step rows come FROM the
 * UPDATE's result). The status test is written `(status = 'running') IS TRUE` so that no index can serve it:
 * with a plain `status = 'running'` the planner walked `executions_status_created` over every running row
 * once statistics said few were running (the drift migration 3 fixed); here the primary key is the only path.
 *
 * Measured through the store (PostgreSQL 15, 2 cores, one execution row, the two paths alternating, 800
 * step records each, median per call, two rounds): 0.48 / 0.41 ms vs 0.61 / 0.55 ms through
 * `apply_checkpoints()` with synchronous_commit off, 0.99 / 0.86 vs 1.22 / 1.09 ms with it on; the
 * in-process latency probe (`bench/src/probe-latency.ts`) moved W1 by 0.3-0.5 ms. A lone checkpoint is what
 * the latency figures are made of (W1: three of its four commits).
 */
import { encodeError } from "../row-mapping.js";
import type { Checkpoint } from "../store.js";
import { attemptsJson, stepsJson } from "./checkpoint-batch.js";
import { stepWritesSql } from "./checkpoint-statement.js";
import { checkpointCountsSql } from "./count-deltas.js";
import { prepared, type SqlContext } from "./sql-context.js";

/** Whether `applySingle` takes this checkpoint: progress and step records, completion and failure. */
export function fitsSingle(checkpoint: Checkpoint): boolean {
  const { status } = checkpoint.execution;
  return status === "running" || status === "completed" || status === "failed";
}

const FENCE = "e.id = $1 AND e.lease_token = $2 AND (e.status = 'running') IS TRUE";

/** $1 id, $2 token, $3 now, $4 current step, $5 steps completed, $6 steps, $7 attempts. */
function progressSql(s: string): string {
  return `
WITH u AS (
  UPDATE ${s}.executions e SET current_step = $4, steps_completed = $5, updated_at = $3
  WHERE ${FENCE}
  RETURNING e.id, e.task
), ${stepWritesSql(s, "u", "u.id", "$6::jsonb", "$7::jsonb")}
SELECT task FROM u`;
}

/** $1 id, $2 token, $3 now, $4 'completed' or 'failed', $5 output, $6 error, $7 steps completed, $8 steps, $9 attempts. */
function endSql(s: string): string {
  return `
WITH u AS (
  UPDATE ${s}.executions e SET status = $4,
    output = CASE WHEN $4 = 'completed' THEN $5 ELSE e.output END,
    error = CASE WHEN $4 = 'failed' THEN $6 ELSE e.error END,
    completed_at = $3, runnable_at = NULL, current_step = NULL, waiting_for_event = NULL,
    steps_completed = $7, lease_owner = NULL, updated_at = $3
  WHERE ${FENCE}
  RETURNING e.id, e.task, e.status
), ${stepWritesSql(s, "u", "u.id", "$8::jsonb", "$9::jsonb")}${checkpointCountsSql(s, "u")}
SELECT task FROM u`;
}

/** Applies one checkpoint that `fitsSingle`; returns its task when applied, null when fenced out. */
export async function applySingle(ctx: SqlContext, checkpoint: Checkpoint): Promise<string | null> {
  const { fence, now, execution: patch } = checkpoint;
  const steps = JSON.stringify(stepsJson(checkpoint));
  const attempts = JSON.stringify(attemptsJson(checkpoint));
  const head = [fence.executionId, fence.leaseToken, now];
  const query =
    patch.status === "running"
      ? prepared(ctx, "single_progress", () => progressSql(ctx.s), [...head, patch.currentStep, patch.stepsCompleted, steps, attempts])
      : patch.status === "completed" || patch.status === "failed"
        ? prepared(ctx, "single_end", () => endSql(ctx.s), [
            ...head,
            patch.status,
            patch.status === "completed" ? patch.outputJson : null,
            patch.status === "failed" ? encodeError(patch.error) : null,
            patch.stepsCompleted,
            steps,
            attempts,
          ])
        : null;
  if (query === null) throw new Error(`applySingle cannot write a "${patch.status}" checkpoint`);
  const result = await ctx.pool.query<{ task: string }>(query);
  return result.rows[0]?.task ?? null;
}
