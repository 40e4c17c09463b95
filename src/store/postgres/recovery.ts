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

export async function resumeExecution(ctx: SqlContext, id: string, now: number): Promise<{ result: ResumeOutcome; notices: Notice[] }> {
  return inTransaction(ctx, async (client) => {
    const locked = await client.query<ExecutionRow>(`SELECT * FROM ${ctx.s}.executions WHERE id = $1 FOR UPDATE`, [id]);
    const before = locked.rows[0];
    if (!before) return { result: { outcome: "not_found" }, notices: [] };
    const after = await transitionById(ctx, client, TRANSITIONS.resume, id, { now });
    if (!after) return { result: { outcome: "not_retryable", execution: toExecution(before) }, notices: [] };
    const step = before.error === null ? null : (JSON.parse(before.error) as ErrorInfo).step;
    if (step) {
      await client.query(`UPDATE ${ctx.s}.steps SET state = 'discarded' WHERE execution_id = $1 AND name = $2 AND state = 'failed'`, [
        id,
        step,
      ]);
    }
    if (before.status === "cancelled") {
      // Child records failed by the cancellation itself (the cascade wrote them at the parent's end time).
      await client.query(
        `UPDATE ${ctx.s}.steps SET state = 'discarded'
         WHERE execution_id = $1 AND kind = 'child' AND state = 'failed' AND completed_at = $2
           AND (error::jsonb)->>'code' = '${CANCELLED_CHILD_CODE}'`,
        [id, before.completed_at],
      );
    }
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
