/**
 * API-side writes: schedule, cancel, deliver an event. Races between processes (same idempotency key, two
 * deliveries, two cancels) resolve in the database - a unique index, a row lock - never in a check-then-act
 * window in JavaScript. Each returns the notices its commit warrants; the store emits them after commit.
 */
import type pg from "pg";
import type { ExecutionRecord } from "../../core/types.js";
import { batchNotices, creationNotices, finishedColumns } from "../creation-notices.js";
import { EXECUTION_COLUMNS, type ExecutionRow, type StepRow, toExecution, toStep } from "../row-mapping.js";
import type { CancelOutcome, CreateResult, DeliverOutcome, DeliverRequest, NewExecution, NewQueuedExecution, Notice } from "../store.js";
import { inTransaction, prepared, type SqlContext } from "./sql-context.js";

/**
 * `isRetry`: this call repeats one that failed on a lost connection and may have committed. Ids are random,
 * so a row that already has our id (by primary key, or holding our idempotency key) is our own earlier
 * insert: reported as created, exactly as the first attempt would have been.
 */
export async function createExecution(
  ctx: SqlContext,
  input: NewExecution,
  isRetry = false,
): Promise<{ result: CreateResult; notices: Notice[] }> {
  const { id, idempotencyKey } = input;
  const created = (row: ExecutionRow) => ({ result: { execution: toExecution(row), created: true }, notices: creationNotices(input) });
  // The conflict target is the partial unique index, so a duplicate *id* still raises (ids are random; a
  // clash is a bug to surface). Under READ COMMITTED a conflicting insert still in flight makes this one
  // wait for it; if it commits we do nothing, and the SELECT below (a new snapshot) sees its row.
  const inserted = await ctx.pool.query<ExecutionRow>(insertQuery(ctx, input)).catch(async (error: unknown) => {
    if (!isRetry || (error as { constraint?: unknown }).constraint !== "executions_pkey") throw error;
    return ctx.pool.query<ExecutionRow>(`SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE id = $1`, [id]);
  });
  const row = inserted.rows[0];
  if (row) return created(row);
  const existing = await ctx.pool.query<ExecutionRow>(`SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE idempotency_key = $1`, [
    idempotencyKey,
  ]);
  const found = existing.rows[0];
  if (!found) throw new Error(`Insert of execution ${id} was skipped but no row holds its idempotency key`);
  if (found.id === id) return created(found);
  return { result: { execution: toExecution(found), created: false }, notices: [] };
}

const CONFLICT = `ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING ${EXECUTION_COLUMNS}`;

/** The INSERT for a new execution: queued, born claimed (eager start), or born finished (see NewExecution). */
function insertQuery(ctx: SqlContext, input: NewExecution): pg.QueryConfig {
  const { id, task, dataJson, idempotencyKey, now, claimFor, finished } = input;
  if (finished) {
    const { output, error } = finishedColumns(finished);
    return prepared(
      ctx,
      "insert_finished",
      () => `INSERT INTO ${ctx.s}.executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at,
                                            started_at, completed_at, attempt, lease_token, output, error, steps_completed)
           VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $6, $7, 1, 1, $8, $9, $10)
           ${CONFLICT}`,
      [id, task, finished.status, dataJson, idempotencyKey, now, finished.at, output, error, finished.stepsCompleted],
    );
  }
  if (claimFor) {
    // Eager start (see NewExecution.claimFor): the row is born claimed, as a claim would leave it.
    return prepared(
      ctx,
      "insert_claimed",
      () => `INSERT INTO ${ctx.s}.executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at,
                                            started_at, attempt, lease_token, lease_owner)
           VALUES ($1, $2, 'running', $3, $4, $5, $5, $6, $5, 1, 1, $7)
           ${CONFLICT}`,
      [id, task, dataJson, idempotencyKey, now, now + claimFor.leaseMs, claimFor.workerId],
    );
  }
  return prepared(
    ctx,
    "insert",
    () => `INSERT INTO ${ctx.s}.executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at)
           VALUES ($1, $2, 'pending', $3, $4, $5, $5, $5)
           ${CONFLICT}`,
    [id, task, dataJson, idempotencyKey, now],
  );
}

/**
 * A batch in ONE statement (one implicit transaction): all rows or none. Rows that a stored (or earlier
 * in-batch) idempotency key stops are answered with the row that holds the key, read after the insert as
 * in `createExecution`. `isRetry` as there: after a lost connection, a row that already has one of our
 * (random) ids is our own earlier insert, so every conflict is skipped and such rows count as created.
 */
export async function createExecutions(
  ctx: SqlContext,
  inputs: readonly NewQueuedExecution[],
  isRetry = false,
): Promise<{ result: CreateResult[]; notices: Notice[] }> {
  if (inputs.length === 0) return { result: [], notices: [] };
  const conflict = isRetry ? "ON CONFLICT DO NOTHING" : "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING";
  const inserted = await ctx.pool.query<ExecutionRow>(
    prepared(
      ctx,
      isRetry ? "insert_many_retry" : "insert_many",
      () => `INSERT INTO ${ctx.s}.executions (id, task, status, data, idempotency_key, created_at, updated_at, runnable_at)
             SELECT b.id, b.task, 'pending', b.data, b.key, b.now, b.now, b.now
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS b(id, task, data, key, now, ord)
             ORDER BY b.ord
             ${conflict}
             RETURNING ${EXECUTION_COLUMNS}`,
      [
        inputs.map((i) => i.id),
        inputs.map((i) => i.task),
        inputs.map((i) => i.dataJson),
        inputs.map((i) => i.idempotencyKey),
        inputs.map((i) => i.now),
      ],
    ),
  );
  const byId = new Map(inserted.rows.map((row) => [row.id, row]));
  const missing = inputs.filter((i) => !byId.has(i.id));
  // Keys this batch inserted answer its own later repeats of them.
  const held = new Map(inserted.rows.flatMap((row) => (row.idempotency_key === null ? [] : [[row.idempotency_key, row] as const])));
  if (missing.length > 0) {
    const missingIds = new Set(missing.map((i) => i.id));
    const found = await ctx.pool.query<ExecutionRow>(
      `SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE id = ANY($1::text[]) OR idempotency_key = ANY($2::text[])`,
      [missing.map((i) => i.id), missing.flatMap((i) => (i.idempotencyKey === null ? [] : [i.idempotencyKey]))],
    );
    for (const row of found.rows) {
      if (isRetry && missingIds.has(row.id)) byId.set(row.id, row);
      if (row.idempotency_key !== null) held.set(row.idempotency_key, row);
    }
  }
  const result = inputs.map((input): CreateResult => {
    const own = byId.get(input.id);
    if (own) return { execution: toExecution(own), created: true };
    const holder = input.idempotencyKey === null ? undefined : held.get(input.idempotencyKey);
    if (!holder) throw new Error(`Insert of execution ${input.id} was skipped but no row holds its idempotency key`);
    return { execution: toExecution(holder), created: false };
  });
  return { result, notices: batchNotices(inputs, result) };
}

export interface CancelResult {
  outcome: CancelOutcome;
  execution: ExecutionRecord | null;
}

export async function cancelExecution(ctx: SqlContext, id: string, now: number): Promise<{ result: CancelResult; notices: Notice[] }> {
  return inTransaction(ctx.pool, async (client) => {
    // FOR UPDATE: a racing cancel waits here and then sees 'cancelled', so exactly one reports the change.
    const current = await client.query<ExecutionRow>(`SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE id = $1 FOR UPDATE`, [id]);
    const row = current.rows[0];
    if (!row) return { result: { outcome: "not_found", execution: null }, notices: [] };
    if (row.status === "cancelled") return { result: { outcome: "already_cancelled", execution: toExecution(row) }, notices: [] };
    if (row.status === "completed" || row.status === "failed") {
      return { result: { outcome: "not_cancellable", execution: toExecution(row) }, notices: [] };
    }
    // lease_token is left alone: the holder is fenced out by status <> 'running' already.
    const updated = await client.query<ExecutionRow>(
      // Counted here (migration 4: a status change is counted by the statement that makes it).
      `WITH updated AS (
         UPDATE ${ctx.s}.executions
         SET status = 'cancelled', completed_at = $2, runnable_at = NULL, current_step = NULL, waiting_for_event = NULL,
             lease_owner = NULL, updated_at = $2
         WHERE id = $1
         RETURNING ${EXECUTION_COLUMNS}
       ), counted AS (
         INSERT INTO ${ctx.s}.count_deltas (task, status, delta)
         SELECT task, $3, -1 FROM updated UNION ALL SELECT task, 'cancelled', 1 FROM updated
       )
       SELECT * FROM updated`,
      [id, now, row.status],
    );
    const after = toExecution(updated.rows[0] as ExecutionRow);
    const notices: Notice[] = [{ kind: "terminal", executionId: id, status: "cancelled" }];
    if (row.status === "running") notices.push({ kind: "cancelled", executionId: id });
    return { result: { outcome: "cancelled", execution: after }, notices };
  });
}

/**
 * Checks in the contract's order: unknown execution, not waiting for that event, payload refused by its
 * schema. One call of `deliver_event()` (migration 3) when the wait has no schema; with one, a first call
 * returns the schema without writing, the payload is checked here, and a second call delivers if the
 * wait still has the schema that was checked (otherwise it asks again).
 */
export async function deliverEvent(ctx: SqlContext, request: DeliverRequest): Promise<{ result: DeliverOutcome; notices: Notice[] }> {
  const { executionId, payloadJson, now, validate } = request;
  let checked: string | null = null;
  for (;;) {
    const found = await ctx.pool.query<DeliverRow>(deliverQuery(ctx, request, checked));
    const row = found.rows[0];
    if (!row || row.outcome === "not_found") return { result: { outcome: "not_found" }, notices: [] };
    if (row.outcome === "not_waiting") return { result: { outcome: "not_waiting" }, notices: [] };
    const task = row.task_name as string;
    if (row.outcome === "delivered") {
      if (row.claimed === null) return { result: { outcome: "delivered", task }, notices: [{ kind: "runnable", task, at: now }] };
      const claimed = { execution: toExecution(row.claimed), steps: (row.claimed_steps ?? []).map(toStep) };
      const ended = row.finished === true ? request.finishIfToken?.finished : undefined;
      if (!ended) return { result: { outcome: "delivered", task, claimed }, notices: [] };
      return {
        result: { outcome: "delivered", task, claimed, finished: true },
        notices: [{ kind: "terminal", executionId, status: ended.status }],
      };
    }
    checked = row.wait_schema as string;
    const message = validate?.(checked, payloadJson) ?? null;
    if (message !== null) return { result: { outcome: "invalid", message }, notices: [] };
  }
}

/** `deliver_event()`, or `deliver_and_finish()` (migration 6) when the caller ran the resumed workflow already. */
function deliverQuery(ctx: SqlContext, request: DeliverRequest, checked: string | null): pg.QueryConfig {
  const { executionId, eventName, payloadJson, now, validate, claimFor, finishIfToken } = request;
  const args = [
    executionId,
    eventName,
    payloadJson,
    now,
    validate !== undefined,
    checked,
    claimFor?.workerId ?? null,
    claimFor?.leaseMs ?? null,
    claimFor?.tasks ?? [],
  ];
  if (!finishIfToken) {
    return prepared(
      ctx,
      "deliver",
      () =>
        `SELECT outcome, task_name, wait_schema, claimed, claimed_steps FROM ${ctx.s}.deliver_event($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      args,
    );
  }
  const { leaseToken, finished } = finishIfToken;
  const { output, error } = finishedColumns(finished);
  return prepared(
    ctx,
    "deliver_finish",
    () =>
      `SELECT outcome, task_name, wait_schema, claimed, claimed_steps, finished
       FROM ${ctx.s}.deliver_and_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [...args, leaseToken, finished.status, output, error, finished.stepsCompleted, finished.at],
  );
}

interface DeliverRow {
  outcome: string;
  task_name: string | null;
  wait_schema: string | null;
  /** The claimed row as JSON (eager resume); bigint columns arrive as JSON numbers, exact below 2^53. */
  claimed: ExecutionRow | null;
  claimed_steps: StepRow[] | null;
  /** deliver_and_finish() only: the final status was applied too. */
  finished?: boolean;
}
