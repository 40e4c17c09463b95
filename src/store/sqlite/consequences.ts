import { TRANSITIONS } from "../../state/transitions.js";
import type { Notice } from "../store.js";
import { childOutcome, rowNotice, TERMINAL, type WrittenRow } from "../writes.js";
import type { Connection } from "./statement-cache.js";
import { transitionSql } from "./transition-statements.js";

const ANSWER_PARENT = `UPDATE steps SET state = ?, result = ?, error = ?, completed_at = ?,
    settled_in = (SELECT lease_token + 1 FROM executions WHERE id = steps.execution_id)
  WHERE execution_id = ? AND name = ? AND kind = 'child' AND state = 'waiting' AND child_id = ?`;

const RUNNING_IN_GROUP = `SELECT count(*) AS n FROM executions INDEXED BY executions_group_running
  WHERE task = ? AND concurrency_key = ? AND status = 'running' AND concurrency_limit IS NOT NULL`;

const NEXT_IN_GROUP = `SELECT id, priority, created_at, concurrency_limit FROM executions INDEXED BY executions_slot_wait
  WHERE task = ? AND concurrency_key = ? AND status = 'pending' AND runnable_at IS NULL
  ORDER BY priority DESC, created_at, id LIMIT 1`;

/** `before`: the row's status before the transition that left it as `after`. */
export function applyConsequences(conn: Connection, before: string, after: WrittenRow, now: number, notices: Notice[]): void {
  if (after.parent_id !== null && after.parent_step !== null && TERMINAL.has(after.status) && !TERMINAL.has(before)) {
    answerParent(conn, after, now, notices);
  }
  // A slot freed (a run left `running`), or a pending row that may have been granted one was cancelled.
  const freed = before === "running" ? after.status !== "running" : before === "pending" && after.status === "cancelled";
  if (freed && after.concurrency_limit !== null) handOn(conn, after.task, after.concurrency_key ?? "", now, notices);
}

function answerParent(conn: Connection, child: WrittenRow, now: number, notices: Notice[]): void {
  const parentId = child.parent_id as string;
  const outcome = childOutcome(child, child.parent_step as string);
  const answered = conn.sql
    .get(ANSWER_PARENT)
    .run(outcome.state, outcome.result, outcome.error, now, parentId, child.parent_step, child.id);
  // A startChild (not waited for), the parent ended, or the record waits for another child (the parent was
  // retried and started a new one for the step; this one was retried too): nothing to answer.
  if (answered.changes === 0) return;
  const parent = conn.sql.executionRow(transitionSql(TRANSITIONS.deliver), { id: parentId, now });
  const notice = parent ? rowNotice(parent) : null;
  if (notice) notices.push(notice);
}

/** A row's place in its concurrency group's queue: priority first, then creation order. */
export interface QueuePlace {
  id: string;
  priority: number;
  created_at: number;
  concurrency_limit: number;
}

/**
 * Grants slots to the group's waiting rows in queue order while the next one's own limit has room (rows of
 * one group may carry different limits after a deploy): counting the rows granted here, so a release of one
 * slot grants one row when the limits agree.
 */
export function handOn(conn: Connection, task: string, key: string, now: number, notices: Notice[]): void {
  let next = waitingHead(conn, task, key);
  if (next === undefined) return;
  const used = slotsUsed(conn, task, key);
  for (let granted = 0; next !== undefined && used + granted < next.concurrency_limit; granted++) {
    const row = conn.sql.executionRow(transitionSql(TRANSITIONS.grant_slot), { id: next.id, now });
    const notice = row ? rowNotice(row) : null;
    if (notice) notices.push(notice);
    next = waitingHead(conn, task, key);
  }
}

/** The group's oldest row waiting for a slot (priority first), if any: usually none. */
export function waitingHead(conn: Connection, task: string, key: string): QueuePlace | undefined {
  return conn.sql.get(NEXT_IN_GROUP).get(task, key) as QueuePlace | undefined;
}

/** The group's running rows: the slots in use. */
export function slotsUsed(conn: Connection, task: string, key: string): number {
  return (conn.sql.get(RUNNING_IN_GROUP).get(task, key) as { n: number }).n;
}
