/**
 * API-side writes beside creation (create.ts): cancel and event delivery. Races between processes (two
 * deliveries, two cancels, a delivery and a worker's park) resolve in the database with row locks, never
 * in a check-then-act window in JavaScript. Each returns the notices its commit warrants; the store emits
 * them after commit.
 */
import type { ExecutionRecord } from "../../core/types.js";
import type { ExecutionRow } from "../../state/columns.js";
import { TRANSITIONS } from "../../state/transitions.js";
import { encodeError, type StepRow, toExecution, toStep } from "../row-mapping.js";
import type { BufferedEvent, CancelOutcome, DeliverOutcome, DeliverRequest, Notice } from "../store.js";
import { cancelledNotices, rowNotice, TERMINAL, withDelivery } from "../writes.js";
import { applyConsequences, type Change, handOnSlots, releasedSlots, type SlotGroup, transitionById } from "./consequences.js";
import { inTransactionBreakingDeadlocks, preparedWith, type SqlContext } from "./sql-context.js";
import { deliverSql } from "./statements.js";

export interface CancelResult {
  outcome: CancelOutcome;
  execution: ExecutionRecord | null;
}

/**
 * The execution and, unless detached, its descendants, in one transaction with their consequences; the
 * concurrency slots of running ones are handed on after the commit (consequences.ts).
 */
export async function cancelExecution(ctx: SqlContext, id: string, now: number): Promise<{ result: CancelResult; notices: Notice[] }> {
  const released: SlotGroup[] = [];
  const outcome = await inTransactionBreakingDeadlocks(ctx, async (client): Promise<{ result: CancelResult; notices: Notice[] }> => {
    const after = await transitionById(ctx, client, TRANSITIONS.cancel, id, { now });
    if (!after) {
      const found = await client.query<ExecutionRow>(`SELECT * FROM ${ctx.s}.executions WHERE id = $1`, [id]);
      const row = found.rows[0];
      if (!row) return { result: { outcome: "not_found", execution: null }, notices: [] };
      if (row.status !== "cancelled") return { result: { outcome: "not_cancellable", execution: toExecution(row) }, notices: [] };
      // Notices again: a repeat may follow a cancel that committed but whose reply (and notices) were lost.
      return { result: { outcome: "already_cancelled", execution: toExecution(row) }, notices: cancelledNotices(id) };
    }
    const notices: Notice[] = [];
    const changes: Change[] = [cancelled(after, notices)];
    const descendants = await client.query<{ id: string }>(
      `WITH RECURSIVE d(id) AS (
         SELECT id FROM ${ctx.s}.executions WHERE parent_id = $1 AND cancel_with_parent = 1
         UNION SELECT e.id FROM ${ctx.s}.executions e JOIN d ON e.parent_id = d.id WHERE e.cancel_with_parent = 1
       ) SELECT id FROM d ORDER BY id`,
      [id],
    );
    for (const { id: child } of descendants.rows) {
      const row = await transitionById(ctx, client, TRANSITIONS.cancel, child, { now });
      if (row) changes.push(cancelled(row, notices));
    }
    await applyConsequences(ctx, client, changes, now, notices);
    released.push(...releasedSlots(changes));
    return { result: { outcome: "cancelled", execution: toExecution(after) }, notices };
  });
  outcome.notices.push(...(await handOnSlots(ctx, released, now)));
  return outcome;
}

function cancelled(row: ExecutionRow & { old_status: string }, notices: Notice[]): Change {
  notices.push({ kind: "terminal", executionId: row.id, status: "cancelled" });
  if (row.old_status === "running") notices.push({ kind: "cancelled", executionId: row.id });
  return { before: row.old_status, after: row };
}

interface DeliverRow {
  action: "stale" | "ended" | "buffer" | "no_wait" | "timed_out" | "deadline" | "validate" | "deliver";
  task: string;
  schema: string | null;
  row: (ExecutionRow & { old_status: string; claimed: boolean }) | null;
  steps_json: StepRow[] | null;
  events_json: BufferedEvent[] | null;
}

/**
 * One statement (deliverSql) per attempt; a `stale` answer (the row changed after the statement's snapshot
 * was taken) wrote nothing and is run again. A wait with a payload schema is answered `validate` with the
 * schema (nothing written); the payload is checked here and the statement runs again with the schema it
 * was checked against, delivering only if the wait still has it.
 */
export async function deliverEvent(ctx: SqlContext, request: DeliverRequest): Promise<{ result: DeliverOutcome; notices: Notice[] }> {
  const { executionId, eventName, payloadJson, now, validate, claimFor, finishIfToken } = request;
  const finish = finishIfToken?.finished ?? null;
  const params: Record<string, unknown> = { now, worker: claimFor?.workerId ?? null, lease_ms: claimFor?.leaseMs ?? null };
  if (finish) {
    Object.assign(params, { at: finish.at, steps_completed: finish.stepsCompleted, crashes: 0, consumed: 0 });
    if (finish.transition === "complete") params.output = finish.outputJson;
    else params.error = encodeError(finish.error);
  }
  const kind = finish?.transition ?? null;
  let checked: string | null = null;
  for (;;) {
    const query = preparedWith(
      ctx,
      `deliver_${kind ?? "plain"}`,
      () => deliverSql(ctx.s, kind),
      [executionId, eventName, payloadJson, validate !== undefined, checked, claimFor?.tasks ?? [], finishIfToken?.leaseToken ?? null],
      params,
    );
    const found = await ctx.pool.query<DeliverRow>(query);
    const row = found.rows[0];
    if (!row) return { result: { outcome: "not_found" }, notices: [] };
    switch (row.action) {
      case "stale":
        continue;
      case "ended":
        return { result: { outcome: "not_waiting", reason: "ended" }, notices: [] };
      case "no_wait":
        return { result: { outcome: "not_waiting", reason: "no_wait" }, notices: [] };
      case "timed_out":
      case "deadline":
        return { result: { outcome: "not_waiting", reason: row.action }, notices: [] };
      case "buffer":
        return { result: { outcome: "buffered", task: row.task }, notices: [] };
      case "deliver":
        return delivered(request, row);
      case "validate": {
        checked = row.schema as string;
        const message = validate?.(checked, payloadJson) ?? null;
        if (message !== null) return { result: { outcome: "invalid", message }, notices: [] };
      }
    }
  }
}

function delivered(request: DeliverRequest, row: DeliverRow): { result: DeliverOutcome; notices: Notice[] } {
  const after = row.row as NonNullable<DeliverRow["row"]>;
  if (!after.claimed) {
    const notice = rowNotice(after);
    return { result: { outcome: "delivered", task: row.task }, notices: notice ? [notice] : [] };
  }
  // The steps were read in the statement's snapshot, before the wait recorded the payload.
  const steps = withDelivery(
    (row.steps_json ?? []).map(toStep),
    { name: request.eventName, payloadJson: request.payloadJson, now: request.now },
    after.lease_token,
  );
  const claimed = { execution: toExecution(after), steps, events: row.events_json ?? [], recovered: false };
  if (!TERMINAL.has(after.status)) return { result: { outcome: "delivered", task: row.task, claimed }, notices: [] };
  const notices: Notice[] = [{ kind: "terminal", executionId: after.id, status: after.status as ExecutionRecord["status"] }];
  return { result: { outcome: "delivered", task: row.task, claimed, finished: true }, notices };
}
