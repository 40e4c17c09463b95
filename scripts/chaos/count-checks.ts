/**
 * The counting checks of a chaos run: the stored per-status counts (status_counts plus count_deltas),
 * GET /api/v1/stats and the list totals, on every API server, against the execution rows themselves.
 */
import { type Check, check } from "./check.js";
import type { FaultContext } from "./fault-context.js";

export interface Row {
  id: string;
  task: string;
  status: string;
  output: string | null;
  error: string | null;
  parent_id: string | null;
  schedule_id: string | null;
  idempotency_key: string | null;
  data: string;
}

/** Stored counts, /stats and list totals (on every API server) against the rows. */
export async function countChecks(ctx: FaultContext, rows: readonly Row[]): Promise<Check[]> {
  const mismatches = await ctx.db.query<{ task: string; status: string; counted: string | null; stored: string | null }>(
    `SELECT task, status, counted, stored FROM
       (SELECT task, status, SUM(n) AS counted FROM (
          SELECT task, status, n FROM chaos.status_counts
          UNION ALL SELECT task, status, delta FROM chaos.count_deltas) c
        GROUP BY task, status HAVING SUM(n) <> 0) counted
     FULL JOIN (SELECT task, status, count(*) AS stored FROM chaos.executions GROUP BY task, status) stored USING (task, status)
     WHERE counted IS DISTINCT FROM stored`,
  );
  const byStatus: Record<string, number> = {};
  for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  const statsWrong: unknown[] = [];
  const listWrong: unknown[] = [];
  for (const api of ctx.cluster.apis) {
    const url = (await api).url;
    const stats = (await (await fetch(`${url}/api/v1/stats`)).json()) as Record<string, number>;
    for (const status of new Set([...Object.keys(stats), ...Object.keys(byStatus)]))
      if ((stats[status] ?? 0) !== (byStatus[status] ?? 0)) statsWrong.push({ url, status, stats: stats[status], rows: byStatus[status] });
    const total = (await (await fetch(`${url}/api/v1/executions?limit=1`)).json()) as { total: number };
    if (total.total !== rows.length) listWrong.push({ url, total: total.total, rows: rows.length });
    for (const status of ["pending", "running", "waiting", "completed", "failed", "cancelled"]) {
      const page = (await (await fetch(`${url}/api/v1/executions?status=${status}&limit=1`)).json()) as { total: number };
      if (page.total !== (byStatus[status] ?? 0)) listWrong.push({ url, status, total: page.total, rows: byStatus[status] ?? 0 });
    }
  }
  return [
    check("stored counts equal the rows", mismatches),
    check("GET /api/v1/stats equals the rows, on every API server", statsWrong),
    check("list totals equal the rows, on every API server", listWrong),
  ];
}
