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

const NEXT_IN_GROUP = `SELECT id FROM executions INDEXED BY executions_slot_wait
  WHERE task = ? AND concurrency_key = ? AND status = 'pending' AND runnable_at IS NULL
  ORDER BY priority DESC, created_at, id LIMIT 1`;

/** `before`: the row's status before the transition that left it as `after`. */
export function applyConsequences(conn: Connection, before: string, after: WrittenRow, now: number, notices: Notice[]): void {
  if (after.parent_id !== null && after.parent_step !== null && TERMINAL.has(after.status) && !TERMINAL.has(before)) {
    answerParent(conn, after, now, notices);
  }
  if (before === "running" && after.status !== "running" && after.concurrency_limit !== null) {
    grantSlot(conn, after.task, after.concurrency_key ?? "", after.concurrency_limit, now, notices);
  }
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

/**
 * Makes the oldest row waiting for a slot of the group due, if a slot is free. Waiting rows are looked
 * for first: usually there are none, and then the running rows need no count.
 */
function grantSlot(conn: Connection, task: string, key: string, limit: number, now: number, notices: Notice[]): void {
  const next = conn.sql.get(NEXT_IN_GROUP).get(task, key) as { id: string } | undefined;
  if (!next) return;
  const { n } = conn.sql.get(RUNNING_IN_GROUP).get(task, key) as { n: number };
  if (n >= limit) return;
  const granted = conn.sql.executionRow(transitionSql(TRANSITIONS.grant_slot), { id: next.id, now });
  const notice = granted ? rowNotice(granted) : null;
  if (notice) notices.push(notice);
}
