/** The step timeline's data (operations.md §1), read in one statement (one snapshot). */
import { EXECUTION_COLUMNS, type ExecutionRow } from "../../state/columns.js";
import { type ChildState, type TimelineData, withTimelineColumns } from "../operations.js";
import { ATTEMPT_COLUMNS, type AttemptRow, STEP_COLUMNS, type StepRow, toAttempt, toExecution, toStep } from "../row-mapping.js";
import { prepared, type SqlContext } from "./sql-context.js";

interface TimelineRow {
  execution: ExecutionRow | null;
  steps: StepRow[] | null;
  attempts: AttemptRow[] | null;
  children: { id: string; status: ChildState["status"]; output: string | null }[] | null;
}

export async function getTimeline(ctx: SqlContext, id: string): Promise<TimelineData | null> {
  const s = ctx.s;
  const found = await ctx.pool.query<TimelineRow>(
    prepared(
      ctx,
      "timeline",
      () => `SELECT
  (SELECT row_to_json(e) FROM (SELECT ${EXECUTION_COLUMNS} FROM ${s}.executions WHERE id = $1) e) AS execution,
  (SELECT json_agg(st ORDER BY st.seq, st.started_at, st.name) FROM (SELECT ${STEP_COLUMNS} FROM ${s}.steps WHERE execution_id = $1) st) AS steps,
  (SELECT json_agg(a ORDER BY a.step, a.attempt) FROM (SELECT ${ATTEMPT_COLUMNS} FROM ${s}.step_attempts WHERE execution_id = $1) a) AS attempts,
  (SELECT json_agg(c) FROM (
     SELECT x.id, x.status, x.output FROM ${s}.executions x
     WHERE x.id IN (SELECT st.child_id FROM ${s}.steps st WHERE st.execution_id = $1 AND st.kind = 'child'
                    AND st.state = 'completed' AND st.result IS NULL AND st.child_id IS NOT NULL)
   ) c) AS children`,
      [id],
    ),
  );
  const row = found.rows[0];
  if (!row?.execution) return null;
  return {
    execution: toExecution(row.execution),
    steps: (row.steps ?? []).map((r) => withTimelineColumns(toStep(r), r)),
    attempts: (row.attempts ?? []).map(toAttempt),
    children: new Map((row.children ?? []).map((c) => [c.id, { status: c.status, outputJson: c.output }])),
  };
}
