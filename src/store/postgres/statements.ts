/**
 * The PostgreSQL statements of the state machine, generated from the transitions. Checkpoints have two
 * forms, chosen by one rule (checkpoint-writer.ts): one checkpoint alone is a lean UPDATE fenced by its
 * own WHERE; a batch is one statement over a JSON array (locked by primary key in id order, so batches
 * never deadlock), optionally with a claim folded in. The group committer never puts two checkpoints of
 * one execution in a batch, so the batch needs no ordering within an execution.
 *
 * Statements are prepared (sql-context.ts `prepared`), so each is planned once per connection.
 */

import { EXECUTION_COLUMNS } from "../../state/columns.js";
import { COMPOSITES } from "../../state/composites.js";
import { endsRun, TRANSITIONS, type Transition } from "../../state/transitions.js";
import { countDeltasSql } from "./count-deltas.js";
import { STEP_JSON_FIELDS, stepWritesSql } from "./step-writes.js";
import { type Case, caseSetList, fromStatuses, jsonContext, Positional, positionalContext } from "./transition-sql.js";
import { unwatchedColumn } from "./watch-presence.js";

export const WORKER_TRANSITIONS = ["progress", "park", "release", "retry", "complete", "fail"] as const;
export type WorkerKind = (typeof WORKER_TRANSITIONS)[number];

export interface Statement {
  text: string;
  /** Parameter names in positional order, after the fixed leading ones. */
  names: readonly string[];
}

/** Which of a lone checkpoint's optional parts it carries; a statement exists per combination. */
export interface LoneShape {
  attempts: boolean;
  consumed: boolean;
}

/**
 * One checkpoint: $1 id, $2 token, $3 steps, then $4 attempts and the consumed event ids when its shape
 * has them, then the transition's parameters. Parts it does not carry are left out of the statement, and
 * so are the status counts when the transition keeps the row `running`. It returns only what the writer
 * cannot know beforehand: the status and due time the transition left; the rest of the written row is the
 * checkpoint's own (docs/decisions/033-lean-lone-checkpoints.md). The status test is written
 * `(e.status = 'running') IS TRUE` so that no index can serve it (with a plain equality the planner walked
 * `executions_status_created` over every running row once statistics said few were running); the primary
 * key is the only path.
 */
export function singleCheckpointSql(s: string, transition: Transition, shape: LoneShape): Statement {
  let next = 4;
  const attempts = shape.attempts ? `$${next++}::jsonb` : null;
  const consumed = shape.consumed ? `$${next++}::jsonb` : null;
  const positional = new Positional(next);
  const set = caseSetList([{ when: "TRUE", transition }], positionalContext(positional));
  const counted = transition.set.status === undefined ? "" : `,\n${countDeltasSql(s, "counted", "u", "'running'", "u.status")}`;
  const text = `
WITH u AS (
  UPDATE ${s}.executions e SET ${set}
  WHERE e.id = $1 AND e.lease_token = $2 AND (e.status = 'running') IS TRUE
  RETURNING e.id, e.task, e.status, e.runnable_at
), ${stepWritesSql(s, "u", "u.id", "$3::jsonb", attempts, consumed)}${counted}
SELECT u.status, u.runnable_at${endsRun(transition) ? `, ${unwatchedColumn(s)}` : ""} FROM u`;
  return { text, names: positional.names };
}

/** What a batch statement is made for: the transitions it chooses between, and its optional parts. */
export interface BatchShape {
  kinds: readonly WorkerKind[];
  /** Whether some checkpoint of the batch carries failed attempts or consumed events (else no CTE for them). */
  extras: boolean;
}

/** A shape that takes any batch. */
const ANY_BATCH: BatchShape = { kinds: WORKER_TRANSITIONS, extras: true };

/**
 * A batch: $1 is a JSON array of `{ i, id, token, kind, p, steps, attempts, consumed }` (p: the transition's
 * parameters), whose kinds are among `shape.kinds`: the SET list chooses only between those (a plain list
 * for one), the status counts are left out when none of them changes the status, and the attempts and
 * consumed events when no checkpoint has any (decision 033). Returns one row per checkpoint: its index `i`
 * and, when it applied, its id and the status and due time it left.
 */
export function batchSql(s: string, claim: ClaimPart | null = null, shape: BatchShape = ANY_BATCH): string {
  const { kinds, extras } = shape;
  const cases: Case[] =
    kinds.length === 1
      ? [{ when: "TRUE", transition: TRANSITIONS[kinds[0] as WorkerKind] }]
      : kinds.map((kind) => ({ when: `c.kind = '${kind}'`, transition: TRANSITIONS[kind] }));
  const counted = kinds.some((kind) => (TRANSITIONS[kind] as Transition).set.status !== undefined)
    ? `,\n${countDeltasSql(s, "counted", "rows_written", "'running'", "rows_written.status")}`
    : "";
  return `
WITH c AS MATERIALIZED (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS c(i integer, id text, token bigint, kind text, p jsonb, steps jsonb, attempts jsonb, consumed jsonb)
),
-- Locked by primary key alone, in id order; status and token are checked on the locked (latest) versions.
candidates AS MATERIALIZED (
  SELECT e.id, e.status, e.lease_token FROM ${s}.executions e
  WHERE e.id = ANY (ARRAY(SELECT c.id FROM c)) ORDER BY e.id FOR UPDATE
),
locked AS MATERIALIZED (
  SELECT k.id FROM candidates k JOIN c ON c.id = k.id WHERE k.status = 'running' AND k.lease_token = c.token
),
rows_written AS (
  UPDATE ${s}.executions e SET ${caseSetList(cases, jsonContext("c.p"))}
  FROM locked l JOIN c ON c.id = l.id
  WHERE e.id = l.id
  RETURNING e.id, e.task, e.status, e.runnable_at
), ${stepWritesSql(s, "locked l JOIN c ON c.id = l.id", "l.id", "c.steps", extras ? "c.attempts" : null, extras ? "c.consumed" : null)}${counted}${claim ? `,\n${claim.ctes}` : ""}
SELECT c.i, w.id, w.status, w.runnable_at${kinds.some((kind) => endsRun(TRANSITIONS[kind])) ? `, ${unwatchedColumn(s)}` : ""}${claim ? `, CASE WHEN c.i = 0 THEN ${claim.result} END AS claim_json` : ""}
FROM c LEFT JOIN rows_written w ON w.id = c.id`;
}

export interface ClaimPart {
  ctes: string;
  /** SQL for the claim's result: `{ "claimed": [rows with steps_json, events_json], "more": boolean }`. */
  result: string;
  names: readonly string[];
}

/**
 * The claim's CTEs: `pick_due` locks due rows (by priority, then due time); the ones it may take are
 * claimed, the ones whose concurrency group is full wait for a slot; a claimed row's steps and events are
 * read after its lock, in a snapshot of their own (steps_of, events_of in schema.sql). Due rows of
 * priority 0 are read from the parameter `floor` up; `tiered` goes straight to the priority tiers
 * (claim-floor.ts). `first`: the first positional parameter; `excluded`: SQL for ids not to pick (rows a
 * batch in the same statement writes).
 */
export function claimPart(s: string, first: number, excluded = "'{}'::text[]"): ClaimPart {
  const positional = new Positional(first);
  const ctx = positionalContext(positional);
  const now = positional.ref("now", "bigint");
  const tasks = positional.cast("tasks", "text[]");
  const limit = positional.ref("limit", "int");
  const floor = positional.ref("floor", "bigint");
  const tiered = positional.cast("tiered", "boolean");
  const claimSet = caseSetList([{ when: "TRUE", transition: TRANSITIONS.claim }], ctx);
  const parkSet = caseSetList([{ when: "TRUE", transition: TRANSITIONS.await_slot }], ctx);
  const ctes = `picked AS MATERIALIZED (SELECT * FROM ${s}.pick_due(${now}, ${tasks}, ${limit}, ${excluded}, ${floor}, ${tiered})),
claimed AS (
  UPDATE ${s}.executions e SET ${claimSet}
  FROM picked p WHERE e.id = p.id AND NOT p.declined
  RETURNING ${EXECUTION_COLUMNS.split(", ")
    .map((c) => `e.${c}`)
    .join(", ")}, p.due_at, p.old_status,
    CASE WHEN NOT p.fresh OR e.rerun_of IS NOT NULL THEN (
      SELECT json_agg(json_build_object(${STEP_JSON_FIELDS}) ORDER BY st.seq, st.started_at, st.name)
      FROM ${s}.steps_of(e.id) st
    ) END AS steps_json,
    CASE WHEN e.buffered_events > 0 THEN (
      SELECT json_agg(json_build_object('id', ev.id, 'name', ev.name, 'payloadJson', ev.payload, 'createdAt', ev.created_at) ORDER BY ev.id)
      FROM ${s}.events_of(e.id) ev
    ) END AS events_json
),
parked AS (
  UPDATE ${s}.executions e SET ${parkSet}
  FROM picked p WHERE e.id = p.id AND p.declined
  RETURNING e.id, e.task, e.status, e.runnable_at, p.old_status, e.concurrency_key, e.concurrency_limit
),
${countDeltasSql(s, "claim_counted", "claimed", "claimed.old_status", "claimed.status")},
${countDeltasSql(s, "park_counted", "parked", "parked.old_status", "parked.status")}`;
  // A row pick_due locked but this statement did not write (left for a busy group's lock, or committed
  // after the statement's snapshot, which its UPDATEs read) is reported as left: this claim kept other
  // claims from it, so its due time must hold their floors below it (claim-floor.ts).
  const result = `json_build_object('claimed', (SELECT json_agg(row_to_json(cl)) FROM claimed cl),
    'more', (SELECT count(*) FROM claimed) < (SELECT count(*) FROM picked),
    'left', (SELECT min(picked.due_at) FROM picked WHERE picked.id IS NULL
      OR (picked.id NOT IN (SELECT claimed.id FROM claimed) AND picked.id NOT IN (SELECT parked.id FROM parked))),
    'parked', (SELECT json_agg(json_build_object('task', pk.task, 'key', COALESCE(pk.concurrency_key, ''), 'limit', pk.concurrency_limit)) FROM parked pk))`;
  return { ctes, result, names: positional.names };
}

/** A standalone claim. */
export function claimSql(s: string): { text: string; names: readonly string[] } {
  const part = claimPart(s, 1);
  return { text: `WITH ${part.ctes}\nSELECT ${part.result} AS claim_json`, names: part.names };
}

/**
 * A transition of one row by id (`$1`), applied when the row is in one of its statuses; returns the row
 * after it and its status before (for counts and notices).
 */
export function transitionByIdSql(s: string, transition: Transition): Statement {
  const positional = new Positional(2);
  const set = caseSetList([{ when: "TRUE", transition }], positionalContext(positional));
  const text = `
WITH before AS MATERIALIZED (SELECT e.id, e.status FROM ${s}.executions e WHERE e.id = $1 FOR UPDATE),
u AS (
  UPDATE ${s}.executions e SET ${set}
  FROM before b WHERE e.id = b.id AND ${fromStatuses(transition, "b.status")}
  RETURNING ${EXECUTION_COLUMNS.split(", ")
    .map((c) => `e.${c}`)
    .join(", ")}, b.status AS old_status
),
${countDeltasSql(s, "counted", "u", "u.old_status", "u.status")}
SELECT * FROM u`;
  return { text, names: positional.names };
}

/**
 * An event delivery in one statement: the row and the wait are locked (row first, as every writer of a
 * row and its steps does), the outcome is decided on the locked versions, and when it is `deliver` the
 * wait records the payload and the row takes `deliver` - or, for an eager resume, `deliver_claimed`, and
 * when the caller's resumed run already ended with the token it expected, that end too. The lock may
 * return a version of the row committed after the statement's snapshot (a park that recorded the wait
 * while the delivery waited for the lock); the steps read in that snapshot would miss the wait, so the
 * statement then writes nothing and answers `stale`, and runs again in a fresh snapshot (every writer
 * of a row's steps also updates the row). $1 id, $2 event,
 * $3 payload, $4 check schema?, $5 schema checked, $6 claim tasks, $7 expected token. A task registered with
 * `events: "buffered"` stores an event no wait is open for. A waiting row due with no open wait or backoff
 * due by its wake-up woke for its task's deadline (`deadline`: refused, as the SQLite store does).
 */
export function deliverSql(s: string, finish: "complete" | "fail" | null): Statement {
  const positional = new Positional(8);
  const ctx = positionalContext(positional);
  const now = positional.ref("now", "bigint");
  const claim = `b.action = 'deliver' AND b.old_status = 'waiting' AND b.concurrency_limit IS NULL AND b.task = ANY ($6::text[])`;
  const cases: Case[] = [];
  if (finish) {
    const ended = finish === "complete" ? COMPOSITES.deliver_completed : COMPOSITES.deliver_failed;
    // A child's end has consequences (its parent) that this statement does not apply: it ends through a checkpoint.
    cases.push({ when: `${claim} AND b.parent_id IS NULL AND b.lease_token + 1 = $7::bigint`, transition: ended });
  }
  cases.push({ when: claim, transition: COMPOSITES.deliver_claimed }, { when: "TRUE", transition: TRANSITIONS.deliver });
  const text = `
WITH locked AS MATERIALIZED (
  SELECT e.id, e.task, e.status AS old_status, e.concurrency_limit, e.lease_token, e.parent_id, e.runnable_at, e.xmin AS locked_xmin
  FROM ${s}.executions e WHERE e.id = $1 FOR UPDATE
),
wait AS MATERIALIZED (
  SELECT st.schema, st.wake_at FROM ${s}.steps st
  WHERE st.execution_id = (SELECT id FROM locked) AND st.name = $2 AND st.kind = 'event' AND st.state = 'waiting'
  FOR UPDATE
),
decided AS MATERIALIZED (
  SELECT l.*, w.schema, $7::bigint AS expected_token,
    CASE WHEN l.locked_xmin IS DISTINCT FROM (SELECT x.xmin FROM ${s}.executions x WHERE x.id = l.id) THEN 'stale'
         WHEN l.old_status IN ('completed', 'failed', 'cancelled') THEN 'ended'
         WHEN w.present IS NULL THEN CASE WHEN EXISTS (SELECT 1 FROM ${s}.steps ts WHERE ts.execution_id = l.id
           AND ts.name = $2 AND ts.kind = 'event' AND ts.state = 'failed') THEN 'timed_out'
         WHEN EXISTS (SELECT 1 FROM ${s}.tasks t WHERE t.name = l.task
           AND t.options::jsonb->>'bufferedEvents' = 'true') THEN 'buffer' ELSE 'no_wait' END
         WHEN w.wake_at IS NOT NULL AND w.wake_at <= ${now} THEN 'timed_out'
         WHEN l.old_status = 'waiting' AND l.runnable_at <= ${now} AND NOT EXISTS (SELECT 1 FROM ${s}.steps o
           WHERE o.execution_id = l.id AND o.state IN ('waiting', 'retrying') AND o.wake_at <= l.runnable_at) THEN 'deadline'
         WHEN w.schema IS NOT NULL AND $4::boolean AND w.schema IS DISTINCT FROM $5::text THEN 'validate'
         ELSE 'deliver' END AS action
  FROM locked l LEFT JOIN (SELECT true AS present, wait.* FROM wait) w ON true
),
u AS (
  UPDATE ${s}.executions e SET ${caseSetList(cases, ctx)}
  FROM decided b WHERE e.id = b.id AND b.action = 'deliver'
  RETURNING ${EXECUTION_COLUMNS.split(", ")
    .map((c) => `e.${c}`)
    .join(", ")}, b.old_status, (${claim}) AS claimed, b.lease_token + 1 AS settled_in
),
recorded AS (
  UPDATE ${s}.steps st SET state = 'completed', result = $3::text, completed_at = ${now}, settled_in = u.settled_in
  FROM u WHERE st.execution_id = u.id AND st.name = $2
),
buffered AS (
  INSERT INTO ${s}.events (execution_id, name, payload, created_at)
  SELECT b.id, $2, $3::text, ${now} FROM decided b WHERE b.action = 'buffer'
),
buffer_counted AS (
  UPDATE ${s}.executions e SET ${caseSetList([{ when: "TRUE", transition: TRANSITIONS.buffer_event }], ctx)}
  FROM decided b WHERE e.id = b.id AND b.action = 'buffer'
),
${countDeltasSql(s, "counted", "u", "u.old_status", "u.status")}
SELECT b.action, b.task, b.schema, (SELECT row_to_json(u) FROM u) AS row,
  CASE WHEN EXISTS (SELECT 1 FROM u WHERE u.claimed) THEN (
    SELECT json_agg(json_build_object(${STEP_JSON_FIELDS}) ORDER BY st.seq, st.started_at, st.name)
    FROM ${s}.steps st WHERE st.execution_id = b.id
  ) END AS steps_json,
  CASE WHEN EXISTS (SELECT 1 FROM u WHERE u.claimed AND u.buffered_events > 0) THEN (
    SELECT json_agg(json_build_object('id', ev.id, 'name', ev.name, 'payloadJson', ev.payload, 'createdAt', ev.created_at) ORDER BY ev.id)
    FROM ${s}.events ev WHERE ev.execution_id = b.id
  ) END AS events_json
FROM decided b`;
  return { text, names: positional.names };
}
