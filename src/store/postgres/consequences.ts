/**
 * What a transition implies for other rows. A child that ended answers its parent's `runChild` (the
 * parent's step record, then `deliver` on the parent) inside the same explicit transaction.
 *
 * Concurrency slots are handed on after the commit instead (`handOnSlots`), by both sides of the race
 * that matters: a row that left `running` (a release) and a claim that parked a row for want of a slot.
 * Each, once its own write committed, looks in a new statement for rows waiting in its groups and, if
 * any, grants under the group's advisory lock (blocking, groups in sorted order). Whichever of the two
 * commits second sees the other's write, so a parked row is never left waiting beside a free slot; a
 * grant too many only makes a row due, and its claim checks the slot again (pick_due). A release with
 * nobody waiting costs one indexed read and no explicit transaction. docs/engine.md, "Concurrency limits";
 * why: docs/decisions/021-concurrency-slot-hand-on.md.
 */
import type { ExecutionRow } from "../../state/columns.js";
import { TRANSITIONS } from "../../state/transitions.js";
import type { Notice } from "../store.js";
import { childOutcome, rowNotice, TERMINAL, type WrittenRow } from "../writes.js";
import type { Queryable } from "./create.js";
import { inTransaction, prepared, preparedWith, type SqlContext } from "./sql-context.js";
import { transitionByIdSql } from "./statements.js";

export type { WrittenRow };

export interface Change {
  before: string;
  after: WrittenRow;
}

/** A concurrency group whose slots may be free for a waiting row (one entry per slot released). */
export interface SlotGroup {
  task: string;
  key: string;
  limit: number;
}

/**
 * The groups whose slots these changes released: rows that left `running`, and pending rows cancelled (one
 * may have been granted a slot it never took).
 */
export function releasedSlots(changes: readonly Change[]): SlotGroup[] {
  return changes
    .filter(
      ({ before, after }) =>
        after.concurrency_limit !== null &&
        (before === "running" ? after.status !== "running" : before === "pending" && after.status === "cancelled"),
    )
    .map(({ after }) => ({ task: after.task, key: after.concurrency_key ?? "", limit: after.concurrency_limit as number }));
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
}

/**
 * After a commit that released slots of `groups` or parked rows in them: grants, to rows waiting in those
 * groups, the slots that are free (see the header). Returns the grants' notices. Never throws: the write
 * before it committed, and a hand-on lost to a failing connection is made by the next `sweepSlots`.
 */
export async function handOnSlots(ctx: SqlContext, groups: readonly SlotGroup[], now: number): Promise<Notice[]> {
  if (groups.length === 0) return [];
  try {
    return await grantWaiting(ctx, groups, now);
  } catch (error) {
    ctx.logger?.warn({ err: error }, "could not hand on concurrency slots now; the next sweep will");
    return [];
  }
}

/**
 * Every group with rows waiting for a slot, handed on: the safety net behind `handOnSlots` (a connection
 * lost between a release's commit and its hand-on). Cheap when nobody waits: the waiting rows' index is empty.
 */
export async function sweepSlots(ctx: SqlContext, now: number): Promise<Notice[]> {
  const waiting = await ctx.pool.query<SlotGroup>(
    prepared(
      ctx,
      "slot_waiting_groups",
      () => `SELECT DISTINCT w.task, COALESCE(w.concurrency_key, '') AS key, w.concurrency_limit AS limit FROM ${ctx.s}.executions w
       WHERE w.status = 'pending' AND w.runnable_at IS NULL AND w.concurrency_limit IS NOT NULL`,
      [],
    ),
  );
  return handOnSlots(ctx, waiting.rows, now);
}

async function grantWaiting(ctx: SqlContext, groups: readonly SlotGroup[], now: number): Promise<Notice[]> {
  const waiting = await ctx.pool.query<{ task: string; key: string }>(
    prepared(
      ctx,
      "slot_waiters",
      () => `SELECT DISTINCT g.task, g.key FROM unnest($1::text[], $2::text[]) AS g(task, key)
       WHERE EXISTS (SELECT 1 FROM ${ctx.s}.executions w WHERE w.task = g.task AND w.concurrency_key = g.key
         AND w.status = 'pending' AND w.runnable_at IS NULL)`,
      [groups.map((g) => g.task), groups.map((g) => g.key)],
    ),
  );
  if (waiting.rows.length === 0) return [];
  const has = new Set(waiting.rows.map((w) => `${w.task}\u001f${w.key}`));
  // Once per group: a grant hands on every slot free there (grantSlot).
  const sorted = groups
    .filter((g) => has.delete(`${g.task}\u001f${g.key}`))
    .sort((a, b) => (a.task === b.task ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.task < b.task ? -1 : 1));
  const notices: Notice[] = [];
  await inTransaction(ctx, async (client) => {
    for (const group of sorted) await grantSlot(ctx, client, group, now, notices);
  });
  return notices;
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
     WHERE execution_id = $5 AND name = $6 AND kind = 'child' AND state = 'waiting' AND child_id = $7`,
    [outcome.state, outcome.result, outcome.error, now, child.parent_id, child.parent_step, child.id],
  );
  // A startChild (not waited for), the parent ended, or the record waits for another child (the parent was
  // retried and started a new one for the step; this one was retried too): nothing to answer.
  if (answered.rowCount === 0) return;
  const parent = await transitionById(ctx, q, TRANSITIONS.deliver, child.parent_id as string, { now });
  const notice = parent ? rowNotice(parent) : null;
  if (notice) notices.push(notice);
}

async function grantSlot(
  ctx: SqlContext,
  q: Queryable,
  group: { task: string; key: string },
  now: number,
  notices: Notice[],
): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(1515870811, hashtext($1 || chr(31) || $2))", [group.task, group.key]);
  const used = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${ctx.s}.executions r WHERE r.task = $1 AND r.concurrency_key = $2
       AND r.status = 'running' AND r.concurrency_limit IS NOT NULL`,
    [group.task, group.key],
  );
  const running = used.rows[0]?.n ?? 0;
  // The waiting rows in queue order while the next one's own limit has room, counting those granted here
  // (rows of a group may carry different limits after a deploy): one row per freed slot when limits agree.
  for (let granted = 0; ; granted++) {
    const next = await q.query<{ id: string; cap: number }>(
      `SELECT w.id, w.concurrency_limit AS cap FROM ${ctx.s}.executions w
       WHERE w.task = $1 AND w.concurrency_key = $2 AND w.status = 'pending' AND w.runnable_at IS NULL
       ORDER BY w.priority DESC, w.created_at, w.id LIMIT 1`,
      [group.task, group.key],
    );
    const head = next.rows[0];
    if (head === undefined || running + granted >= head.cap) return;
    const row = await transitionById(ctx, q, TRANSITIONS.grant_slot, head.id, { now });
    const notice = row ? rowNotice(row) : null;
    if (notice) notices.push(notice);
  }
}
