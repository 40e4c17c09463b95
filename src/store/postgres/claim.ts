/**
 * The worker side's reads and takes: claims, lease renewal and the next wake-up. Everything a worker may
 * pick up is found through `runnable_at`, so new work, due timers, ended backoffs and expired leases
 * (crash recovery) are all `pick_due` (schema.sql) on the claim indexes.
 */
import type { ExecutionRow } from "../../state/columns.js";
import { TRANSITIONS } from "../../state/transitions.js";
import { type StepRow, toExecution, toStep } from "../row-mapping.js";
import type { BufferedEvent, ClaimRequest, ClaimResult, Fence, Notice } from "../store.js";
import type { ScanBounds } from "./claim-floor.js";
import { handOnSlots, type SlotGroup } from "./consequences.js";
import { prepared, preparedWith, type SqlContext } from "./sql-context.js";
import { claimSql } from "./statements.js";
import { caseSetList, Positional, positionalContext } from "./transition-sql.js";

type ClaimedRow = ExecutionRow & { due_at: number; old_status: string; steps_json: StepRow[] | null; events_json: BufferedEvent[] | null };

/** The claim's JSON result (bigint columns arrive as JSON numbers, exact below 2^53). */
export interface ClaimRow {
  claimed: ClaimedRow[] | null;
  more: boolean;
  /** Rows parked for want of a concurrency slot, by group (one entry per row). */
  parked: SlotGroup[] | null;
  /**
   * The earliest due time of the rows it locked and left for the next claim, if any: their group's lock was
   * busy, or they were committed after the claiming statement's snapshot (statements.ts, `claimPart`).
   */
  left: number | null;
}

/** A claim whose scan of the due index starts at `from`, straight at the priority tiers if `tiered` (claim-floor.ts). */
export type FlooredClaim = ClaimRequest & ScanBounds;

/** A claim's answer, and the due time of the first row of priority 0 it took (for the floor). */
export interface ClaimOutcome {
  claim: ClaimResult;
  notices: Notice[];
  firstPlainDue: number | null;
}

/** The parameters of the claim's part of a statement (statements.ts, `claimPart`). */
export function claimParams(request: FlooredClaim): Record<string, unknown> {
  const { workerId, now, leaseMs, tasks, limit, from, tiered } = request;
  return { now, tasks, limit, worker: workerId, lease_ms: leaseMs, floor: from, tiered };
}

/** A claim; rows it parked for want of a slot are looked at again after its commit (consequences.ts). */
export async function claim(ctx: SqlContext, request: FlooredClaim): Promise<ClaimOutcome> {
  if (request.limit <= 0 || request.tasks.length === 0) return { claim: { claimed: [], more: false }, notices: [], firstPlainDue: null };
  const result = await ctx.pool.query<{ claim_json: ClaimRow }>(
    preparedWith(ctx, "claim", () => claimSql(ctx.s), [], claimParams(request)),
  );
  const row = result.rows[0]?.claim_json ?? null;
  const parked = parkedGroups(row);
  return {
    claim: toClaimResult(row),
    notices: [...leftNotices(row, request), ...(parked.length > 0 ? await handOnSlots(ctx, parked, request.now) : [])],
    firstPlainDue: firstPlainDue(row),
  };
}

/**
 * Rows a claim left for the next one (see `ClaimRow.left`) were locked by it: other claims skipped
 * them and may raise their floors past them. A `runnable` notice at their due time keeps them in reach
 * (claim-floor.ts: a skipped row "is claimed there or released with a notice").
 */
export function leftNotices(row: ClaimRow | null, request: { tasks: readonly string[] }): Notice[] {
  const at = row?.left ?? null;
  if (at === null) return [];
  return request.tasks.map((task): Notice => ({ kind: "runnable", task, at }));
}

export function firstPlainDue(row: ClaimRow | null): number | null {
  let first: number | null = null;
  for (const r of row?.claimed ?? []) if (r.priority === 0 && (first === null || r.due_at < first)) first = r.due_at;
  return first;
}

export function parkedGroups(row: ClaimRow | null): SlotGroup[] {
  return row?.parked ?? [];
}

/** Oldest first (RETURNING order is unspecified); resumed executions come with their steps and buffered events. */
export function toClaimResult(row: ClaimRow | null): ClaimResult {
  const rows = row?.claimed ?? [];
  rows.sort((a, b) => a.due_at - b.due_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    claimed: rows.map((r) => ({
      execution: toExecution(r),
      steps: (r.steps_json ?? []).map(toStep),
      events: r.events_json ?? [],
      recovered: r.old_status === "running",
    })),
    more: row?.more ?? false,
  };
}

export async function renewLeases(ctx: SqlContext, fences: readonly Fence[], now: number, leaseMs: number): Promise<Set<string>> {
  if (fences.length === 0) return new Set();
  // Rows are locked in id order, the same order checkpoint batches take them in, so a renewal and a
  // batch of the same worker cannot deadlock. By primary key first, then status and token on the locked row.
  const renewed = await ctx.pool.query<{ id: string }>(
    prepared(
      ctx,
      "renew",
      () => `WITH locked AS MATERIALIZED (
       SELECT e.id, e.status, e.lease_token FROM ${ctx.s}.executions e WHERE e.id = ANY ($1::text[]) ORDER BY e.id FOR UPDATE
     ), held AS (
       SELECT l.id FROM locked l JOIN unnest($1::text[], $2::bigint[]) AS f(id, token) ON f.id = l.id
       WHERE l.status = 'running' AND l.lease_token = f.token
     )
     UPDATE ${ctx.s}.executions e SET runnable_at = $3::bigint FROM held WHERE e.id = held.id
     RETURNING e.id`,
      [fences.map((f) => f.executionId), fences.map((f) => f.leaseToken), now + leaseMs],
    ),
  );
  return new Set(renewed.rows.map((r) => r.id));
}

/** See Store.releaseUnheld. Running rows are few (the status index), so the owner is filtered on them. */
export async function releaseUnheld(ctx: SqlContext, workerId: string, held: readonly string[], now: number): Promise<number> {
  const result = await ctx.pool.query(
    preparedWith(
      ctx,
      "release_unheld",
      () => {
        const positional = new Positional(3);
        const set = caseSetList([{ when: "TRUE", transition: TRANSITIONS.expire_lease }], positionalContext(positional));
        const text = `UPDATE ${ctx.s}.executions e SET ${set}
          WHERE e.status = 'running' AND e.lease_owner = $1 AND NOT (e.id = ANY ($2::text[]))`;
        return { text, names: positional.names };
      },
      [workerId, held],
      { now },
    ),
  );
  return result.rowCount ?? 0;
}

/** Rows of priority 0 are read from `from` up (claim-floor.ts). */
export async function nextWakeAt(ctx: SqlContext, tasks: readonly string[], from: number): Promise<number | null> {
  if (tasks.length === 0) return null;
  const row = await ctx.pool.query<{ runnable_at: number | null }>(
    prepared(ctx, "next_wake", () => `SELECT ${ctx.s}.next_wake($1::text[], $2::bigint) AS runnable_at`, [tasks, from]),
  );
  return row.rows[0]?.runnable_at ?? null;
}
