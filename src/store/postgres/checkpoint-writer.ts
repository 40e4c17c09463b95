/**
 * Checkpoint batches (group commit). One rule picks the statement: a lone checkpoint without a folded
 * claim is the lean single-row statement, anything else the batch statement (statements.ts). Either runs
 * as one implicit transaction, unless the batch has consequences inside it (children to insert, a parent
 * to answer): then it runs in an explicit transaction followed by them. Concurrency slots released (and
 * rows a folded claim parked) are handed on after the commit (consequences.ts, `handOnSlots`).
 */

import type { Checkpoint, ClaimedExecution, ClaimResult, Notice } from "../store.js";
import { checkpointParams, type Decided, rowNotice, workerTransition, writtenRow } from "../writes.js";
import { type ClaimRow, claimParams, type FlooredClaim, firstPlainDue, leftNotices, parkedGroups, toClaimResult } from "./claim.js";
import { applyConsequences, type Change, handOnSlots, releasedSlots, type SlotGroup, type WrittenRow } from "./consequences.js";
import { insertExecution, type Queryable } from "./create.js";
import { inTransaction, preparedWith, type SqlContext } from "./sql-context.js";
import { type BatchShape, batchSql, claimPart, singleCheckpointSql, WORKER_TRANSITIONS } from "./statements.js";
import { attemptsJson, stepsJson } from "./step-json.js";
import { publishedNotices } from "./watch-presence.js";

export interface CheckpointOutcome {
  results: boolean[];
  notices: Notice[];
  /** What goes to other processes: `notices` without the terminal ones when nobody watched (watch-presence.ts). */
  published: Notice[];
  claim: ClaimResult | null;
  /** The due time of the first row of priority 0 the folded claim took (claim-floor.ts). */
  firstPlainDue: number | null;
}

/** Whether applying the checkpoint may imply writes to other rows inside its transaction. */
function mayHaveConsequences(checkpoint: Checkpoint): boolean {
  const { owner, patch } = checkpoint;
  if ((checkpoint.children?.length ?? 0) > 0) return true;
  return owner.parentId !== null && (patch.transition === "complete" || patch.transition === "fail");
}

export async function applyCheckpoints(
  ctx: SqlContext,
  batch: readonly Checkpoint[],
  claim: FlooredClaim | null,
): Promise<CheckpointOutcome> {
  if (batch.length === 0) return { results: [], notices: [], published: [], claim: null, firstPlainDue: null };
  const rounds = roundsOf(batch);
  const outcome =
    rounds.length > 1
      ? await inRounds(ctx, batch, rounds, claim)
      : !batch.some(mayHaveConsequences)
        ? await write(ctx, ctx.pool, batch, claim)
        : await inTransaction(ctx, (client) => writeWithConsequences(ctx, client, batch, claim));
  // The transaction held the watch lock to its commit: its terminal notices are nobody else's business.
  const published = publishedNotices(outcome.notices, outcome.unwatched);
  const slots = [...releasedSlots(changesOf(outcome.written)), ...outcome.parked];
  if (slots.length > 0) {
    const handedOn = await handOnSlots(ctx, slots, batch[0]?.now ?? 0);
    outcome.notices.push(...handedOn);
    published.push(...handedOn);
  }
  return { results: outcome.results, notices: outcome.notices, published, claim: outcome.claim, firstPlainDue: outcome.firstPlainDue };
}

/** A transaction's writes; `unwatched`: one of its statements took the watch lock (watch-presence.ts). */
type Written = Omit<CheckpointOutcome, "published"> & { written: (WrittenRow | null)[]; parked: SlotGroup[]; unwatched: boolean };

/** Every row a worker write left: it was `running` before (the fence says so). */
function changesOf(written: readonly (WrittenRow | null)[]): Change[] {
  return written.flatMap((row) => (row ? [{ before: "running", after: row }] : []));
}

/**
 * A batch with several checkpoints of one execution (the group committer never sends one, but the Store
 * contract allows it): applied in rounds, each with one checkpoint per execution, in order, in one transaction.
 */
async function inRounds(ctx: SqlContext, batch: readonly Checkpoint[], rounds: number[][], claim: FlooredClaim | null): Promise<Written> {
  return inTransaction(ctx, async (client) => {
    const outcome: Written = {
      results: batch.map(() => false),
      notices: [],
      claim: null,
      firstPlainDue: null,
      written: batch.map(() => null),
      parked: [],
      unwatched: false,
    };
    for (const [n, round] of rounds.entries()) {
      const part = await writeWithConsequences(
        ctx,
        client,
        round.map((i) => batch[i] as Checkpoint),
        n === rounds.length - 1 ? claim : null,
      );
      round.forEach((i, k) => {
        outcome.results[i] = part.results[k] ?? false;
        outcome.written[i] = part.written[k] ?? null;
      });
      outcome.notices.push(...part.notices);
      outcome.claim = part.claim;
      outcome.firstPlainDue = part.firstPlainDue;
      outcome.parked.push(...part.parked);
      outcome.unwatched ||= part.unwatched;
    }
    return outcome;
  });
}

/** Indexes of the batch grouped so that no group holds two checkpoints of one execution, in order. */
function roundsOf(batch: readonly Checkpoint[]): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  batch.forEach((checkpoint, i) => {
    const id = checkpoint.fence.executionId;
    const round = (seen.get(id) ?? -1) + 1;
    seen.set(id, round);
    rounds[round] ??= [];
    rounds[round].push(i);
  });
  return rounds;
}

/** The batch, then (in the caller's transaction) its children and consequences. */
async function writeWithConsequences(
  ctx: SqlContext,
  client: Queryable,
  batch: readonly Checkpoint[],
  claim: FlooredClaim | null,
): Promise<Written> {
  const outcome = await write(ctx, client, batch, claim);
  for (const [i, checkpoint] of batch.entries()) {
    if (!outcome.results[i]) continue;
    for (const child of checkpoint.children ?? []) await insertExecution(ctx, client, child, outcome.notices);
  }
  await applyConsequences(ctx, client, changesOf(outcome.written), batch[0]?.now ?? 0, outcome.notices);
  return outcome;
}

async function write(ctx: SqlContext, q: Queryable, batch: readonly Checkpoint[], claim: FlooredClaim | null): Promise<Written> {
  const only = batch.length === 1 && claim === null ? batch[0] : undefined;
  const written: (WrittenRow | null)[] = batch.map(() => null);
  let claimRow: ClaimRow | null = null;
  let unwatched = false;
  if (only) {
    const transition = workerTransition(only.patch);
    const attempts = only.attempts?.length ? only.attempts : null;
    const consumed = only.consumedEvents?.length ? only.consumedEvents : null;
    const leading: unknown[] = [only.fence.executionId, only.fence.leaseToken, JSON.stringify(stepsJson(only.steps ?? []))];
    if (attempts) leading.push(JSON.stringify(attemptsJson(attempts)));
    if (consumed) leading.push(JSON.stringify(consumed));
    const query = preparedWith(
      ctx,
      `checkpoint_${transition.name}${attempts ? "_a" : ""}${consumed ? "_e" : ""}`,
      () => singleCheckpointSql(ctx.s, transition, { attempts: attempts !== null, consumed: consumed !== null }),
      leading,
      checkpointParams(only),
    );
    const row = (await q.query<Decided & { unwatched?: boolean }>(query)).rows[0];
    written[0] = row ? writtenRow(only, row) : null;
    unwatched = row?.unwatched === true;
  } else {
    type BatchRow = Decided & { i: number; id: string | null; claim_json?: ClaimRow | null; unwatched?: boolean };
    const rows = await q.query<BatchRow>(batchQuery(ctx, batch, claim));
    unwatched = rows.rows[0]?.unwatched === true;
    for (const row of rows.rows) {
      if (row.id !== null) written[row.i] = writtenRow(batch[row.i] as Checkpoint, row);
      if (row.i === 0 && row.claim_json) claimRow = row.claim_json;
    }
  }
  const notices: Notice[] = [];
  for (const row of written) {
    const notice = row ? rowNotice(row) : null;
    if (notice) notices.push(notice);
  }
  const claimed = claim === null ? null : toClaimResult(claimRow);
  if (claim !== null) notices.push(...leftNotices(claimRow, claim));
  return {
    results: written.map((row) => row !== null),
    notices,
    claim: claimed,
    firstPlainDue: firstPlainDue(claimRow),
    written,
    parked: parkedGroups(claimRow),
    unwatched,
  };
}

/**
 * The statement a batch needs: the transitions it has when they are one or two (a batch of steps, or of
 * steps and ends: what a busy worker sends), all of them otherwise, and whether any checkpoint carries
 * attempts or consumed events; at most 88 batch statements are then prepared per connection.
 */
function shapeOf(batch: readonly Checkpoint[]): BatchShape {
  const present = new Set(batch.map((checkpoint) => checkpoint.patch.transition));
  const kinds = present.size > 2 ? WORKER_TRANSITIONS : WORKER_TRANSITIONS.filter((kind) => present.has(kind));
  return { kinds, extras: batch.some((checkpoint) => (checkpoint.attempts?.length ?? 0) + (checkpoint.consumedEvents?.length ?? 0) > 0) };
}

/**
 * Checkpoints go to the database sorted by execution id: every batch then takes its row locks in the same
 * global order (as lease renewals do), so two batches can never deadlock on each other's rows.
 */
function batchQuery(ctx: SqlContext, batch: readonly Checkpoint[], claim: FlooredClaim | null) {
  const order = batch.map((checkpoint, i) => ({ checkpoint, i }));
  order.sort((a, b) => (a.checkpoint.fence.executionId < b.checkpoint.fence.executionId ? -1 : 1));
  const json = JSON.stringify(
    order.map(({ checkpoint, i }) => ({
      i,
      id: checkpoint.fence.executionId,
      token: checkpoint.fence.leaseToken,
      kind: checkpoint.patch.transition,
      p: checkpointParams(checkpoint),
      steps: stepsJson(checkpoint.steps ?? []),
      // Left out when empty (read as NULL: no rows).
      attempts: checkpoint.attempts?.length ? attemptsJson(checkpoint.attempts) : undefined,
      consumed: checkpoint.consumedEvents?.length ? checkpoint.consumedEvents : undefined,
    })),
  );
  const shape = shapeOf(batch);
  const suffix = `${shape.kinds.join("_")}${shape.extras ? "_x" : ""}`;
  if (claim === null)
    return preparedWith(ctx, `checkpoints_${suffix}`, () => ({ text: batchSql(ctx.s, null, shape), names: [] }), [json], {});
  return preparedWith(
    ctx,
    `checkpoints_claim_${suffix}`,
    () => {
      const part = claimPart(ctx.s, 2, "ARRAY(SELECT c.id FROM c)");
      return { text: batchSql(ctx.s, part, shape), names: part.names };
    },
    [json],
    claimParams(claim),
  );
}

export type { ClaimedExecution };
