/**
 * What a transition implies for other rows, applied inside the same (explicit) transaction right after it:
 * a child that ended answers its parent's `runChild` (the parent's step record, then `deliver` on the
 * parent), and a row that left `running` hands its concurrency slot on (`grant_slot`).
 *
 * Slots: the group's advisory lock is taken (blocking, groups in sorted order, so releases never deadlock
 * each other) before the count, in statements of their own, so they see every claim committed before;
 * claims only try the lock (pick_due), so a claim that parked a row for want of a slot has committed
 * before a release can look for it. docs/engine.md, "Concurrency limits".
 */
import type { ExecutionRow } from "../../state/columns.js";
import { TRANSITIONS } from "../../state/transitions.js";
import type { Notice } from "../store.js";
import { childOutcome, rowNotice, TERMINAL, type WrittenRow } from "../writes.js";
import type { Queryable } from "./create.js";
import { preparedWith, type SqlContext } from "./sql-context.js";
import { transitionByIdSql } from "./statements.js";

export type { WrittenRow };

export interface Change {
  before: string;
  after: WrittenRow;
}

export function hasConsequences({ before, after }: Change): boolean {
  const answersParent = after.parent_id !== null && TERMINAL.has(after.status) && !TERMINAL.has(before);
  const releasesSlot = before === "running" && after.status !== "running" && after.concurrency_limit !== null;
  return answersParent || releasesSlot;
}

export async function applyConsequences(
  ctx: SqlContext,
  q: Queryable,
  changes: readonly Change[],
  now: number,
  notices: Notice[],
): Promise<void> {
  for (const { before, after } of changes) {
    if (after.parent_id !== null && after.parent_step !== null && TERMINAL.has(after.status) && !TERMINAL.has(before)) {
      await answerParent(ctx, q, after, now, notices);
    }
  }
  const groups = changes
    .filter(({ before, after }) => before === "running" && after.status !== "running" && after.concurrency_limit !== null)
    .map(({ after }) => ({ task: after.task, key: after.concurrency_key ?? "", limit: after.concurrency_limit as number }))
    .sort((a, b) => (a.task === b.task ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.task < b.task ? -1 : 1));
  for (const group of groups) await grantSlot(ctx, q, group, now, notices);
}

/** Applies a transition to one row by id; returns the row after it (null when it did not apply) and its status before. */
export async function transitionById(
  ctx: SqlContext,
  q: Queryable,
  transition: (typeof TRANSITIONS)[keyof typeof TRANSITIONS],
  id: string,
  params: Record<string, unknown>,
): Promise<(ExecutionRow & { old_status: string }) | null> {
  const query = preparedWith(ctx, `by_id_${transition.name}`, () => transitionByIdSql(ctx.s, transition), [id], params);
  const result = await q.query<ExecutionRow & { old_status: string }>(query);
  return result.rows[0] ?? null;
}

async function answerParent(ctx: SqlContext, q: Queryable, child: WrittenRow, now: number, notices: Notice[]): Promise<void> {
  const outcome = childOutcome(child, child.parent_step as string);
  const answered = await q.query(
    `UPDATE ${ctx.s}.steps SET state = $1, result = $2, error = $3, completed_at = $4,
       settled_in = (SELECT lease_token + 1 FROM ${ctx.s}.executions WHERE id = $5)
     WHERE execution_id = $5 AND name = $6 AND kind = 'child' AND state = 'waiting'`,
    [outcome.state, outcome.result, outcome.error, now, child.parent_id, child.parent_step],
  );
  if (answered.rowCount === 0) return; // a startChild (not waited for), or the parent ended
  const parent = await transitionById(ctx, q, TRANSITIONS.deliver, child.parent_id as string, { now });
  const notice = parent ? rowNotice(parent) : null;
  if (notice) notices.push(notice);
}

async function grantSlot(
  ctx: SqlContext,
  q: Queryable,
  group: { task: string; key: string; limit: number },
  now: number,
  notices: Notice[],
): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(1515870811, hashtext($1 || chr(31) || $2))", [group.task, group.key]);
  const next = await q.query<{ id: string }>(
    `SELECT w.id FROM ${ctx.s}.executions w
     WHERE w.task = $1 AND w.concurrency_key = $2 AND w.status = 'pending' AND w.runnable_at IS NULL
       AND (SELECT count(*) FROM ${ctx.s}.executions r WHERE r.task = $1 AND r.concurrency_key = $2
            AND r.status = 'running' AND r.concurrency_limit IS NOT NULL) < $3
     ORDER BY w.priority DESC, w.created_at, w.id LIMIT 1`,
    [group.task, group.key, group.limit],
  );
  const id = next.rows[0]?.id;
  if (id === undefined) return;
  const granted = await transitionById(ctx, q, TRANSITIONS.grant_slot, id, { now });
  const notice = granted ? rowNotice(granted) : null;
  if (notice) notices.push(notice);
}
