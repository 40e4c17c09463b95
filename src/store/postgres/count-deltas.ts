/**
 * Status-count deltas written by the statements that change a status (migration 4 dropped the row-level
 * UPDATE trigger: its plpgsql call and two-row INSERT per changed row were a fifth of PostgreSQL's time at
 * W0). Each is a data-modifying CTE that adds one `count_deltas` row per (task, status) for the whole
 * statement. INSERT and DELETE are still counted by their statement-level triggers.
 */

/** A checkpoint batch: every row it wrote was `running` (the fence); `written` returns task and new status. */
export function checkpointCountsSql(s: string, written: string): string {
  return `,
counted AS (
  INSERT INTO ${s}.count_deltas (task, status, delta)
  SELECT d.task, d.status, SUM(d.delta)::integer FROM (
    SELECT task, 'running' AS status, -1 AS delta FROM ${written} WHERE status <> 'running'
    UNION ALL SELECT task, status, 1 FROM ${written} WHERE status <> 'running'
  ) d GROUP BY d.task, d.status
)`;
}

/** A claim: `claimed` returns task and `old_status`, the status `pick_due` found on the row it locked. */
export function claimCountsSql(s: string, claimed: string): string {
  return `,
claim_counted AS (
  INSERT INTO ${s}.count_deltas (task, status, delta)
  SELECT d.task, d.status, SUM(d.delta)::integer FROM (
    SELECT task, old_status AS status, -1 AS delta FROM ${claimed} WHERE old_status <> 'running'
    UNION ALL SELECT task, 'running', 1 FROM ${claimed} WHERE old_status <> 'running'
  ) d GROUP BY d.task, d.status
)`;
}
