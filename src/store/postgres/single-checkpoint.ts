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
 * Measured with `bench/src/probe-checkpoint-batches.ts` (PostgreSQL 15, fsync on, 2 cores, two runs on a slow
 * hour of the benchmark VM, median per call): a step record 1.418 / 1.303 ms vs 1.559 / 1.394 ms through
 * `apply_checkpoints()`, a completion 1.398 / 1.225 vs 1.470 / 1.358 ms (the one-statement batch form:
 * 1.518 / 1.329). Earlier, alternating through the store on a faster hour (a one-off script), the gap was
 * 0.14-0.23 ms per step record. A lone checkpoint is what the latency figures are made of (W1: three of its
 * four commits).
 */
import type pg from "pg";
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
  const result = await ctx.pool.query<{ task: string }>(singleQuery(ctx, checkpoint));
  return result.rows[0]?.task ?? null;
}

function singleQuery(ctx: SqlContext, checkpoint: Checkpoint): pg.QueryConfig {
  const { fence, now, execution: patch } = checkpoint;
  const head = [fence.executionId, fence.leaseToken, now];
  const rows = [JSON.stringify(stepsJson(checkpoint)), JSON.stringify(attemptsJson(checkpoint))];
  switch (patch.status) {
    case "running":
      return prepared(ctx, "single_progress", () => progressSql(ctx.s), [...head, patch.currentStep, patch.stepsCompleted, ...rows]);
    case "completed":
      return prepared(ctx, "single_end", () => endSql(ctx.s), [
        ...head,
        patch.status,
        patch.outputJson,
        null,
        patch.stepsCompleted,
        ...rows,
      ]);
    case "failed":
      return prepared(ctx, "single_end", () => endSql(ctx.s), [
        ...head,
        patch.status,
        null,
        encodeError(patch.error),
        patch.stepsCompleted,
        ...rows,
      ]);
    default:
      throw new Error(`applySingle cannot write a "${patch.status}" checkpoint`);
  }
}
