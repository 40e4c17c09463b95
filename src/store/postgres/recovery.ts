/**
 * Recovering executions (operations.md §2): resume in place, and rerun as a new execution, each in one
 * transaction. A resume locks the row first, so two racing retries resume once (the second sees the row
 * `pending` and is refused by the status guard of `resume`); a rerun's row and its copied records commit
 * together.
 */
import type { ErrorInfo } from "../../core/types.js";
import type { ExecutionRow } from "../../state/columns.js";
import { TRANSITIONS } from "../../state/transitions.js";
import { AFTER_EVERY_RECORD, CANCELLED_CHILD_CODE, type RerunOutcome, type ResumeOutcome, resumeNotices } from "../operations.js";
import { STEP_COLUMN_LIST, toExecution } from "../row-mapping.js";
import type { NewExecution, Notice } from "../store.js";
import { transitionById } from "./consequences.js";
import { insertExecution } from "./create.js";
import { inTransaction, type SqlContext } from "./sql-context.js";

/**
 * The failed records a resume sets aside ($1 id, $2 step, $3 cancelled, $4 its end): the failure that ended
 * it, and (after a cancel) the child records the cancellation failed (the cascade wrote them at its end time).
 */
const SET_ASIDE = `execution_id = $1 AND state = 'failed' AND (name = $2::text OR ($3::boolean AND kind = 'child'
    AND completed_at = $4::bigint AND (error::jsonb)->>'code' = '${CANCELLED_CHILD_CODE}'))`;
/**
 * A set-aside record of a child, sleep or event wait is kept as an attempt of its own ($5: the execution
 * attempt that ended) before the next run replaces it (a step's failed attempts are written as they happen).
 */
const KEEP_AS_ATTEMPT = (s: string) => `
  INSERT INTO ${s}.step_attempts (execution_id, step, attempt, execution_attempt, started_at, ended_at, error)
  SELECT st.execution_id, st.name,
    COALESCE((SELECT MAX(a.attempt) FROM ${s}.step_attempts a WHERE a.execution_id = st.execution_id AND a.step = st.name), 0) + 1,
    COALESCE(st.execution_attempt, $5::integer), st.started_at, COALESCE(st.completed_at, $4::bigint), st.error
  FROM ${s}.steps st WHERE st.kind <> 'step' AND st.error IS NOT NULL AND ${SET_ASIDE}`;
const DISCARD = (s: string) => `UPDATE ${s}.steps SET state = 'discarded' WHERE ${SET_ASIDE}`;

export async function resumeExecution(ctx: SqlContext, id: string, now: number): Promise<{ result: ResumeOutcome; notices: Notice[] }> {
  return inTransaction(ctx, async (client) => {
    const locked = await client.query<ExecutionRow>(`SELECT * FROM ${ctx.s}.executions WHERE id = $1 FOR UPDATE`, [id]);
    const before = locked.rows[0];
    if (!before) return { result: { outcome: "not_found" }, notices: [] };
    const after = await transitionById(ctx, client, TRANSITIONS.resume, id, { now });
    if (!after) return { result: { outcome: "not_retryable", execution: toExecution(before) }, notices: [] };
    const step = before.error === null ? null : ((JSON.parse(before.error) as ErrorInfo).step ?? null);
    const setAside = [id, step, before.status === "cancelled", before.completed_at ?? now];
    await client.query(KEEP_AS_ATTEMPT(ctx.s), [...setAside, before.attempt]);
    await client.query(DISCARD(ctx.s), setAside);
    const { old_status: _old, ...row } = after;
    const execution = toExecution(row);
    return { result: { outcome: "resumed", execution }, notices: resumeNotices(execution) };
  });
}

// Copies keep their order (StepRecord.settledIn) and all come before the rerun's first run (token 1).
const COPIED: Record<string, string> = {
  execution_id: "$1",
  copied_from: "$2",
  settled_in: "settled_in - (SELECT lease_token + 1 FROM zart.executions WHERE id = $2)",
};
const COPY_STEPS = (s: string) => `
  INSERT INTO ${s}.steps (${STEP_COLUMN_LIST.join(", ")})
  SELECT ${STEP_COLUMN_LIST.map((c) => COPIED[c]?.replace("zart.", `${s}.`) ?? c).join(", ")}
  FROM ${s}.steps WHERE execution_id = $2 AND seq < $3`;

const COPY_ATTEMPTS = (s: string) => `
  INSERT INTO ${s}.step_attempts (execution_id, step, attempt, execution_attempt, started_at, ended_at, error)
  SELECT $1, a.step, a.attempt, a.execution_attempt, a.started_at, a.ended_at, a.error
  FROM ${s}.step_attempts a JOIN ${s}.steps st ON st.execution_id = a.execution_id AND st.name = a.step
  WHERE a.execution_id = $2 AND st.seq < $3`;

export async function rerunExecution(
  ctx: SqlContext,
  input: NewExecution & { rerunOf: string },
  fromStep: string | null,
): Promise<{ result: RerunOutcome; notices: Notice[] }> {
  return inTransaction(ctx, async (client) => {
    // Held until the copies are made: a prune skips (or, having picked it first, is waited for) the source
    // rather than delete it between the step's lookup and the copy.
    const source = await client.query(`SELECT 1 FROM ${ctx.s}.executions WHERE id = $1 FOR KEY SHARE`, [input.rerunOf]);
    if (source.rowCount === 0) return { result: { outcome: "not_found" }, notices: [] };
    let seq: number | null = null;
    if (fromStep !== null) {
      const found = await client.query<{ seq: number }>(
        `SELECT seq FROM ${ctx.s}.steps WHERE execution_id = $1 AND name = $2
         UNION ALL SELECT ${AFTER_EVERY_RECORD} FROM ${ctx.s}.executions WHERE id = $1 AND status = 'running' AND current_step = $2
         ORDER BY 1 LIMIT 1`,
        [input.rerunOf, fromStep],
      );
      const row = found.rows[0];
      if (!row) return { result: { outcome: "unknown_step" }, notices: [] };
      seq = row.seq;
    }
    const notices: Notice[] = [];
    const result = await insertExecution(ctx, client, { ...input, steps: undefined }, notices);
    if (result.created && seq !== null) {
      const values = [input.id, input.rerunOf, seq];
      await client.query(COPY_STEPS(ctx.s), values);
      await client.query(COPY_ATTEMPTS(ctx.s), values);
    }
    return { result: { outcome: "created", result }, notices };
  });
}
