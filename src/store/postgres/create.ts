/**
 * Creating executions: one, or many in one statement. The idempotency key is enforced by its unique index
 * (ON CONFLICT DO NOTHING, then the holder is read), never by a check-then-insert. Under READ COMMITTED a
 * conflicting insert still in flight makes ours wait for it; if it commits we do nothing and the read (a
 * new snapshot) sees its row.
 */
import type pg from "pg";
import { applyTransition } from "../../state/apply.js";
import { EXECUTION_COLUMNS, type ExecutionRow } from "../../state/columns.js";
import { type Params, pgType } from "../../state/expr.js";
import { perTransition } from "../../state/per-transition.js";
import { endsRun, type Transition } from "../../state/transitions.js";
import { toExecution } from "../row-mapping.js";
import type { CreateResult, NewBatchedExecution, NewExecution, Notice } from "../store.js";
import { insertLists } from "../transition-sql.js";
import { creationNotices, creationParams, creationTransition, mergeRunnable } from "../writes.js";
import { preparedWith, type SqlContext } from "./sql-context.js";
import { STEP_INSERT_FIELDS, STEP_RECORDSET, stepsJson } from "./step-json.js";
import { Positional } from "./transition-sql.js";
import { publishedNotices, unwatchedColumn } from "./watch-presence.js";

export type Queryable = pg.Pool | pg.PoolClient;

const CONFLICT = "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id";

function insertStatement(s: string, input: NewExecution): { text: string; names: readonly string[] } {
  const positional = new Positional(1);
  const transition = creationTransition(input);
  const { columns, values } = insertLists(transition, { dialect: "postgres", param: (name, type) => positional.ref(name, type) });
  return { text: `INSERT INTO ${s}.executions (${columns}) VALUES (${values}) ${CONFLICT}`, names: positional.names };
}

/**
 * How many times an insert stopped by a key whose holder is then pruned before it is read tries again (the
 * key is free by then; only a holder pruned again each time would use them all).
 */
const VANISHED_HOLDER_TRIES = 5;

function vanishedHolder(input: NewExecution): Error {
  return new Error(`Insert of execution ${input.id} was skipped, and the row holding its idempotency key was pruned each time`);
}

/**
 * `isRetry`: this call repeats one that failed on a lost connection and may have committed. Ids are random,
 * so a row that already has our id is our own earlier insert: reported as created, as the first attempt
 * would have been. A row stopped by a key whose holder is pruned before this reads it is inserted again:
 * the key is free (docs/retention.md).
 */
export async function insertExecution(
  ctx: SqlContext,
  q: Queryable,
  input: NewExecution,
  notices: Notice[],
  isRetry = false,
): Promise<CreateResult> {
  for (let tries = 1; ; tries += 1) {
    const result = await insertOrHolder(ctx, q, input, notices, isRetry);
    if (result !== null) return result;
    if (tries >= VANISHED_HOLDER_TRIES) throw vanishedHolder(input);
  }
}

/** The insert, or null when it was stopped by a key whose holder was gone by the time it was read. */
async function insertOrHolder(
  ctx: SqlContext,
  q: Queryable,
  input: NewExecution,
  notices: Notice[],
  isRetry: boolean,
): Promise<CreateResult | null> {
  const transition = creationTransition(input);
  const params = creationParams(input);
  const query = preparedWith(ctx, `insert_${transition.name}`, () => insertStatement(ctx.s, input), [], params);
  // The conflict target is the partial unique index, so a duplicate *id* still raises (a clash is a bug).
  const row = await q.query<{ id: string }>(query).then(
    // The row inserted is what the transition makes of its parameters (as in createExecutions below).
    (result) => (result.rows.length > 0 ? applyTransition(null, transition, params) : undefined),
    async (error: unknown) => {
      if (!isRetry || (error as { constraint?: unknown }).constraint !== "executions_pkey") throw error;
      return (await q.query<ExecutionRow>(`SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE id = $1`, [input.id])).rows[0];
    },
  );
  if (row) {
    if (input.steps && input.steps.length > 0) await insertSteps(ctx, q, input);
    notices.push(...creationNotices(row));
    return { execution: toExecution(row), created: true };
  }
  const existing = await q.query<ExecutionRow>(`SELECT ${EXECUTION_COLUMNS} FROM ${ctx.s}.executions WHERE idempotency_key = $1`, [
    input.idempotencyKey,
  ]);
  const found = existing.rows[0];
  if (!found) return null;
  if (found.id === input.id) {
    notices.push(...creationNotices(found));
    return { execution: toExecution(found), created: true };
  }
  return { execution: toExecution(found), created: false };
}

/** The records a rerun from a step starts with. */
async function insertSteps(ctx: SqlContext, q: Queryable, input: NewExecution): Promise<void> {
  await q.query(
    `INSERT INTO ${ctx.s}.steps (execution_id, ${STEP_INSERT_FIELDS.join(", ")})
     SELECT $1, ${STEP_INSERT_FIELDS.map((f) => `x.${f}`).join(", ")} FROM jsonb_to_recordset($2::jsonb) AS x(${STEP_RECORDSET})`,
    [input.id, JSON.stringify(stepsJson(input.steps ?? []))],
  );
}

/**
 * A batch in ONE statement (one implicit transaction): all rows or none. Every row of a batch is created
 * by the same transition (`creationTransition`: queued, born claimed or born finished) and carries no
 * copied steps. Rows that a stored (or earlier in-batch) idempotency key stops are answered with the row
 * that holds the key; those whose holder a prune deleted before it was read go in again with a statement
 * of their own (`tries` counts them). `isRetry` as above.
 */
export async function createExecutions(
  ctx: SqlContext,
  inputs: readonly NewBatchedExecution[],
  isRetry = false,
  tries = 1,
): Promise<{ result: CreateResult[]; notices: Notice[]; published: Notice[] }> {
  const [first] = inputs;
  if (first === undefined) return { result: [], notices: [], published: [] };
  const transition = creationTransition(first);
  if (inputs.some((input) => creationTransition(input) !== transition || ((input as NewExecution).steps?.length ?? 0) > 0)) {
    throw new Error("a batch insert takes rows of one creation transition, without copied steps");
  }
  const conflict = isRetry ? "ON CONFLICT DO NOTHING" : "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING";
  const bindings = batchParamsOf(transition);
  const params = inputs.map((input) => creationParams(input));
  const columns = bindings.map(({ name }) => params.map((p) => p[name] ?? null));
  // A parameter null in every row is written as one NULL, not sent as an array of them. The set of such
  // parameters picks the statement; its key is a bit mask, since PostgreSQL cuts statement names at 63 bytes.
  const absent = columns.map((values) => values.every((value) => value === null));
  const mask = absent.reduce((bits, isAbsent, k) => (isAbsent ? bits | (1 << k) : bits), 0);
  const inserted = await ctx.pool.query<{ id: string; unwatched?: boolean }>(
    preparedWith(
      ctx,
      `${isRetry ? "insert_many_retry" : "insert_many"}_${transition.name}_${mask.toString(36)}`,
      () => insertManyStatement(ctx.s, conflict, transition, absent),
      columns.filter((_, k) => !absent[k]),
      {},
    ),
  );
  // A row this statement inserted is what its transition makes of its parameters (the behaviour suite
  // holds the stores to that), so only the ids come back: the rows are built here instead of sent and
  // parsed (docs/decisions/029-postgres-inserted-rows-built.md).
  const insertedIds = new Set(inserted.rows.map((row) => row.id));
  const byId = new Map<string, ExecutionRow>();
  inputs.forEach((input, i) => {
    if (insertedIds.has(input.id)) byId.set(input.id, applyTransition(null, transition, params[i] as Params));
  });
  const missing = inputs.filter((i) => !byId.has(i.id));
  // Keys this batch inserted answer its own later repeats of them.
  const held = new Map([...byId.values()].flatMap((row) => (row.idempotency_key === null ? [] : [[row.idempotency_key, row] as const])));
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
  const notices: Notice[] = [];
  const result: (CreateResult | undefined)[] = inputs.map((input) => {
    const own = byId.get(input.id);
    if (own) {
      notices.push(...creationNotices(own));
      return { execution: toExecution(own), created: true };
    }
    const holder = input.idempotencyKey === null ? undefined : held.get(input.idempotencyKey);
    return holder && { execution: toExecution(holder), created: false };
  });
  // Rows born finished end here: their ends go to other processes only while one of them watches, as a
  // worker's ending checkpoint's do (watch-presence.ts).
  let merged = mergeRunnable(notices);
  let published = publishedNotices(merged, inserted.rows[0]?.unwatched === true);
  // Rows stopped by a key whose holder was pruned before the read: the key is free, so they go in again.
  const vanished = inputs.flatMap((_, i) => (result[i] === undefined ? [i] : []));
  if (vanished.length > 0) {
    if (tries >= VANISHED_HOLDER_TRIES) throw vanishedHolder(inputs[vanished[0] as number] as NewExecution);
    const again = await createExecutions(
      ctx,
      vanished.map((i) => inputs[i] as NewBatchedExecution),
      isRetry,
      tries + 1,
    );
    vanished.forEach((i, k) => {
      result[i] = again.result[k];
    });
    merged = mergeRunnable([...merged, ...again.notices]);
    published = [...published, ...again.published];
  }
  return { result: result as CreateResult[], notices: merged, published };
}

interface CreateParam {
  name: string;
  type: string;
}

/** Each creation transition's parameters and their PostgreSQL types, in the order the batch statement binds them. */
const batchParamsOf = perTransition((transition): readonly CreateParam[] => {
  const types = new Map<string, string>();
  insertLists(transition, {
    dialect: "postgres",
    param: (name, type) => {
      types.set(name, pgType(type));
      return "NULL";
    },
  });
  return [...types].map(([name, type]) => ({ name, type }));
});

/**
 * `transition` for every row of the parameter arrays, in order: one array per parameter ($1, $2, … in
 * `batchParamsOf` order, skipping those `absent` marks, which are NULL in every row). Arrays cost PostgreSQL
 * less per row than one JSON document read field by field (docs/decisions/042-postgres-batch-insert-arrays.md).
 */
function insertManyStatement(
  s: string,
  conflict: string,
  transition: Transition,
  absent: readonly boolean[],
): { text: string; names: readonly string[] } {
  const params = batchParamsOf(transition);
  const isAbsent = new Set(params.filter((_, k) => absent[k]).map(({ name }) => name));
  const bound = params.filter(({ name }) => !isAbsent.has(name));
  const { columns, values } = insertLists(transition, {
    dialect: "postgres",
    param: (name, type) => (isAbsent.has(name) ? `NULL::${pgType(type)}` : `b.${name}`),
  });
  const arrays = bound.map(({ type }, k) => `$${k + 1}::${type}[]`).join(", ");
  const text = `INSERT INTO ${s}.executions (${columns})
    SELECT ${values} FROM unnest(${arrays}) WITH ORDINALITY AS b(${bound.map(({ name }) => name).join(", ")}, ord) ORDER BY b.ord
    ${conflict} RETURNING id${endsRun(transition) ? `, ${unwatchedColumn(s)}` : ""}`;
  return { text, names: [] };
}
