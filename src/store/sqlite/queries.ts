/**
 * Read paths for the API and the admin views, plus the task registry. Each list shape has its own index
 * (see migrations/0001-initial-schema.sql), and totals come from the trigger-maintained `status_counts`, so neither a page nor
 * its total scans `executions` however many rows it holds.
 */
import {
  EXECUTION_STATUSES,
  type ExecutionRecord,
  type ExecutionStatus,
  emptyCounts,
  type StatusCounts,
  type TaskRegistration,
} from "../../core/types.js";
import { EXECUTION_COLUMNS } from "../../state/columns.js";
import { ATTEMPT_COLUMNS, type AttemptRow, type StepRow, type TaskRow, toAttempt, toExecution, toStep, toTask } from "../row-mapping.js";
import type { ListQuery, ListResult, StepDetail } from "../store.js";
import { SELECT_BY_ID, SELECT_STEPS } from "./commands.js";
import type { Connection } from "./statement-cache.js";

/** Keeps each statement well under SQLite's parameter and JSON sizes while answering thousands of waiters. */
const STATUS_CHUNK = 500;

export const SELECT_STATUSES = "SELECT id, status FROM executions WHERE id IN (SELECT value FROM json_each(?))";

const SELECT_ATTEMPTS = `SELECT ${ATTEMPT_COLUMNS} FROM step_attempts WHERE execution_id = ? ORDER BY step, attempt`;

const COUNT_BY_STATUS = "SELECT status, SUM(n) AS n FROM status_counts GROUP BY status";

const UPSERT_TASK = `
  INSERT INTO tasks (name, input_schema, options, worker_id, updated_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET input_schema = excluded.input_schema, options = excluded.options,
    worker_id = excluded.worker_id, updated_at = excluded.updated_at`;

const SELECT_TASK = "SELECT name, input_schema, options FROM tasks WHERE name = ?";

export function getExecution(conn: Connection, id: string): ExecutionRecord | null {
  const row = conn.sql.executionRow(SELECT_BY_ID, id);
  return row ? toExecution(row) : null;
}

export function getStatuses(conn: Connection, ids: readonly string[]): Map<string, ExecutionStatus> {
  const statuses = new Map<string, ExecutionStatus>();
  for (let start = 0; start < ids.length; start += STATUS_CHUNK) {
    const chunk = JSON.stringify(ids.slice(start, start + STATUS_CHUNK));
    for (const row of conn.sql.get(SELECT_STATUSES).all(chunk) as { id: string; status: ExecutionStatus }[]) {
      statuses.set(row.id, row.status);
    }
  }
  return statuses;
}

export function getStepDetail(conn: Connection, id: string): StepDetail {
  // One read transaction so steps and attempts come from the same snapshot.
  const read = conn.db.transaction(
    (): StepDetail => ({
      steps: (conn.sql.get(SELECT_STEPS).all(id) as StepRow[]).map(toStep),
      attempts: (conn.sql.get(SELECT_ATTEMPTS).all(id) as AttemptRow[]).map(toAttempt),
    }),
  );
  return read.deferred();
}

/** Builds the list statement for one filter shape; the WHERE columns are a prefix of that shape's index. */
export function listSql(query: ListQuery): { page: string; total: string; params: string[] } {
  const filters: string[] = [];
  const params: string[] = [];
  if (query.task !== undefined) {
    filters.push("task = ?");
    params.push(query.task);
  }
  if (query.status !== undefined) {
    filters.push("status = ?");
    params.push(query.status);
  }
  const where = filters.length > 0 ? `WHERE ${filters.join(" AND ")}` : "";
  // desc is the exact reverse of asc on the same unique key, so offset pages never repeat or skip a row.
  const order = query.order === "desc" ? "created_at DESC, id DESC" : "created_at ASC, id ASC";
  return {
    page: `SELECT ${EXECUTION_COLUMNS} FROM executions ${where} ORDER BY ${order} LIMIT ? OFFSET ?`,
    total: `SELECT COALESCE(SUM(n), 0) AS total FROM status_counts ${where}`,
    params,
  };
}

export function listExecutions(conn: Connection, query: ListQuery): ListResult {
  const { page, total, params } = listSql(query);
  const read = conn.db.transaction((): ListResult => {
    const rows = conn.sql.executionRows(page, ...params, query.limit, query.offset);
    const counted = conn.sql.get(total).get(...params) as { total: number };
    return { executions: rows.map(toExecution), total: counted.total };
  });
  return read.deferred();
}

export function countByStatus(conn: Connection): StatusCounts {
  const counts = emptyCounts();
  for (const row of conn.sql.get(COUNT_BY_STATUS).all() as { status: ExecutionStatus; n: number }[]) {
    if ((EXECUTION_STATUSES as readonly string[]).includes(row.status)) counts[row.status] = row.n;
  }
  return counts;
}

export function registerTasks(conn: Connection, workerId: string, tasks: readonly TaskRegistration[], now: number): void {
  const run = conn.db.transaction(() => {
    for (const task of tasks) conn.sql.get(UPSERT_TASK).run(task.name, task.inputSchemaJson, JSON.stringify(task.options), workerId, now);
  });
  run.immediate();
}

export function getTask(conn: Connection, name: string): TaskRegistration | null {
  const row = conn.sql.get(SELECT_TASK).get(name) as TaskRow | undefined;
  return row ? toTask(row) : null;
}
