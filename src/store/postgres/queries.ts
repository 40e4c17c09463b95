/**
 * Read paths for the API and admin views, plus the task registry. Executions are read by primary key, and
 * list pages by ranges of the per-status list indexes (migrations/0001-initial-schema.sql) in page order, so
 * a page reads offset + limit index entries at most per range: its cost grows with the page number, never
 * with the table. Totals and status counts come from `status_counts` + `count_deltas`, so neither scans
 * `executions`. Why and the figures at 1,000,000 rows: docs/decisions/005-list-page-function.md.
 */
import type pg from "pg";
import {
  EXECUTION_STATUSES,
  type ExecutionRecord,
  type ExecutionStatus,
  emptyCounts,
  type StatusCounts,
  type TaskRegistration,
} from "../../core/types.js";
import { EXECUTION_COLUMNS, type ExecutionRow } from "../../state/columns.js";
import {
  ATTEMPT_COLUMNS,
  type AttemptRow,
  STEP_COLUMNS,
  type StepRow,
  type TaskRow,
  toAttempt,
  toExecution,
  toStep,
  toTask,
} from "../row-mapping.js";
import type { ListQuery, ListResult, StepDetail } from "../store.js";
import { inTransaction, prepared, type SqlContext } from "./sql-context.js";

export async function getExecution(ctx: SqlContext, id: string): Promise<ExecutionRecord | null> {
  const found = await ctx.pool.query<ExecutionRow>(
    prepared(ctx, "get", () => `SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE id = $1`, [id]),
  );
  const row = found.rows[0];
  return row ? toExecution(row) : null;
}

export async function getStatuses(ctx: SqlContext, ids: readonly string[]): Promise<Map<string, ExecutionStatus>> {
  const statuses = new Map<string, ExecutionStatus>();
  if (ids.length === 0) return statuses;
  const found = await ctx.pool.query<{ id: string; status: ExecutionStatus }>(
    `SELECT id, status FROM ${ctx.s}.executions WHERE id = ANY($1::text[])`,
    [ids],
  );
  for (const row of found.rows) statuses.set(row.id, row.status);
  return statuses;
}

export async function getStepDetail(ctx: SqlContext, id: string): Promise<StepDetail> {
  // One statement, one snapshot: steps and attempts agree with each other.
  const found = await ctx.pool.query<{ steps: StepRow[] | null; attempts: AttemptRow[] | null }>(
    `SELECT
       (SELECT json_agg(st ORDER BY st.seq, st.started_at, st.name) FROM (SELECT ${STEP_COLUMNS} FROM ${ctx.s}.steps WHERE execution_id = $1) st) AS steps,
       (SELECT json_agg(a ORDER BY a.step, a.attempt) FROM (SELECT ${ATTEMPT_COLUMNS} FROM ${ctx.s}.step_attempts WHERE execution_id = $1) a) AS attempts`,
    [id],
  );
  const row = found.rows[0];
  return { steps: (row?.steps ?? []).map(toStep), attempts: (row?.attempts ?? []).map(toAttempt) };
}

function filters(query: { task?: string; status?: ExecutionStatus }): { where: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  if (query.task !== undefined) {
    params.push(query.task);
    clauses.push(`task = $${params.length}`);
  }
  if (query.status !== undefined) {
    params.push(query.status);
    clauses.push(`status = $${params.length}`);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

/** Counter rows (folded + pending deltas) for the filters; one statement, so one consistent snapshot. */
function countsSql(s: string, where: string): string {
  return `SELECT status, COALESCE(SUM(n), 0)::bigint AS n FROM (
      SELECT task, status, n FROM ${s}.status_counts
      UNION ALL SELECT task, status, delta::bigint FROM ${s}.count_deltas
    ) c ${where} GROUP BY status`;
}

/**
 * The page and its total from one snapshot (a read-only repeatable-read transaction): read apart, on two
 * connections, a commit between the two reads made a page hold rows its total did not count.
 */
export async function listExecutions(ctx: SqlContext, query: ListQuery): Promise<ListResult> {
  const { where, params } = filters(query);
  return inTransaction(ctx, async (client) => {
    await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const page = await client.query<ExecutionRow>(pageQuery(ctx, query, where, params));
    const counts = await client.query<{ status: string; n: number }>(countsSql(ctx.s, where), params);
    const total = counts.rows.reduce((sum, row) => sum + row.n, 0);
    return { executions: page.rows.map(toExecution), total };
  });
}

/**
 * One page in (created_at, id) order. With a status filter: one range of `executions_status_created` or
 * `executions_task_status_created`. Without one, `list_page()`: a merge of the six per-status ranges of
 * the same indexes (there are no status-less list indexes, which would cost every claim and completion an
 * index write), each limited to offset + limit rows, so a page reads at most six times what a dedicated
 * index would, whatever the table's size; planned once per session (see the schema).
 */
function pageQuery(ctx: SqlContext, query: ListQuery, where: string, params: string[]): pg.QueryConfig {
  const descending = query.order === "desc";
  if (query.status === undefined) {
    return prepared(ctx, "list_page", () => `SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.list_page($1, $2, $3, $4)`, [
      query.task ?? null,
      query.limit,
      query.offset,
      descending,
    ]);
  }
  // desc is the exact reverse of asc on the same unique key, so offset pages never repeat or skip a row.
  const order = descending ? "created_at DESC, id DESC" : "created_at ASC, id ASC";
  const n = params.length;
  return {
    text: `SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions ${where} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
    values: [...params, query.limit, query.offset],
  };
}

export async function countByStatus(ctx: SqlContext): Promise<StatusCounts> {
  const counts = emptyCounts();
  const found = await ctx.pool.query<{ status: string; n: number }>(countsSql(ctx.s, ""));
  for (const row of found.rows) {
    if ((EXECUTION_STATUSES as readonly string[]).includes(row.status)) counts[row.status as ExecutionStatus] = row.n;
  }
  return counts;
}

/** Folds count deltas; returns the rows folded (0 when another process is compacting right now). */
export async function compactCounts(ctx: SqlContext, schema: string): Promise<number> {
  const done = await ctx.pool.query<{ folded: number }>(`SELECT ${ctx.s}.compact_counts(hashtext($1)) AS folded`, [schema]);
  return done.rows[0]?.folded ?? 0;
}

export async function registerTasks(ctx: SqlContext, workerId: string, tasks: readonly TaskRegistration[], now: number): Promise<void> {
  // Last registration of a name wins; an upsert may not touch one row twice in a statement.
  const byName = new Map(tasks.map((t) => [t.name, t] as const));
  if (byName.size === 0) return;
  const list = [...byName.values()];
  await ctx.pool.query(
    `INSERT INTO ${ctx.s}.tasks (name, input_schema, options, worker_id, updated_at)
     SELECT name, input_schema, options, $4, $5 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(name, input_schema, options)
     ON CONFLICT (name) DO UPDATE SET input_schema = excluded.input_schema, options = excluded.options,
       worker_id = excluded.worker_id, updated_at = excluded.updated_at`,
    [list.map((t) => t.name), list.map((t) => t.inputSchemaJson), list.map((t) => JSON.stringify(t.options)), workerId, now],
  );
}

export async function getTask(ctx: SqlContext, name: string): Promise<TaskRegistration | null> {
  const found = await ctx.pool.query<TaskRow>(`SELECT name, input_schema, options FROM ${ctx.s}.tasks WHERE name = $1`, [name]);
  const row = found.rows[0];
  return row ? toTask(row) : null;
}
