import { type ChildState, startedChildren, type TimelineData, withTimelineColumns } from "../operations.js";
import { ATTEMPT_COLUMNS, type AttemptRow, type StepRow, toAttempt, toExecution, toStep } from "../row-mapping.js";
import { SELECT_BY_ID, SELECT_STEPS } from "./commands.js";
import type { Connection } from "./statement-cache.js";

const SELECT_ATTEMPTS = `SELECT ${ATTEMPT_COLUMNS} FROM step_attempts WHERE execution_id = ? ORDER BY step, attempt`;
const SELECT_CHILDREN = "SELECT id, status, output FROM executions WHERE id IN (SELECT value FROM json_each(?))";

export function getTimeline(conn: Connection, id: string): TimelineData | null {
  const read = conn.db.transaction((): TimelineData | null => {
    const row = conn.sql.executionRow(SELECT_BY_ID, id);
    if (!row) return null;
    const steps = (conn.sql.get(SELECT_STEPS).all(id) as StepRow[]).map((r) => withTimelineColumns(toStep(r), r));
    const attempts = (conn.sql.get(SELECT_ATTEMPTS).all(id) as AttemptRow[]).map(toAttempt);
    const children = new Map<string, ChildState>();
    const ids = startedChildren(steps);
    if (ids.length > 0) {
      const found = conn.sql.get(SELECT_CHILDREN).all(JSON.stringify(ids)) as { id: string; status: string; output: string | null }[];
      for (const child of found) children.set(child.id, { status: child.status as ChildState["status"], outputJson: child.output });
    }
    return { execution: toExecution(row), steps, attempts, children };
  });
  return read.deferred();
}
