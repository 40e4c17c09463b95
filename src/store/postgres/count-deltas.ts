/**
 * Status-count deltas written by the statements that change a status, instead of a row-level UPDATE
 * trigger (docs/decisions/004-counts-by-statement.md). Each is a data-modifying CTE
 * adding one `count_deltas` row per (task, status) for the whole statement. INSERT and DELETE are counted by
 * their statement-level triggers. The behaviour suite checks after every test that the counts equal a real
 * `count(*)`, so a writer that forgets is caught.
 */

/** `rows` yields `task`, the status before (`before`) and after (`after`) for each row the statement changed. */
export function countDeltasSql(s: string, name: string, rows: string, before: string, after: string): string {
  return `${name} AS (
  INSERT INTO ${s}.count_deltas (task, status, delta)
  SELECT d.task, d.status, SUM(d.delta)::integer FROM (
    SELECT task, ${before} AS status, -1 AS delta FROM ${rows} WHERE ${before} <> ${after}
    UNION ALL SELECT task, ${after}, 1 FROM ${rows} WHERE ${before} <> ${after}
  ) d GROUP BY d.task, d.status
)`;
}
