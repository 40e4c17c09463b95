/**
 * Migration 4: fewer writes per status change (two indexes and the update count trigger go). Never edit once released.
 *
 * Every claim and every completion changes `status`, so neither can be a HOT update: each writes a new
 * entry into every index of the table. Profiling W0 with prefetch at concurrency 50 (perf, PostgreSQL 15.20)
 * put index insertion at about a third of PostgreSQL's CPU, which was the bottleneck (two cores shared with
 * the worker). The two list indexes without `status` duplicate what a merge of per-status ranges of
 * `executions_status_created` / `executions_task_status_created` gives (there are only six statuses), so
 * they go: `bench/src/probe-drain.ts` with PROBE_DROP_INDEXES=executions_task_created,executions_created
 * (W0, C=50, prefetch 100) measured 9,476 -> 10,830 and 8,947 -> 12,135 executions/s. The unfiltered and
 * task-only list queries are now a MergeAppend over six index ranges (see queries.ts), and the list
 * figures at 1,000,000 stored executions are re-measured by the benchmark's scale figure.
 *
 * Status counts of updates: the statements that change a status insert its count deltas themselves, one
 * row per (task, status) per statement, instead of the row-level trigger's plpgsql call and two-row INSERT
 * per changed row (two per W0 execution: claim and completion). The same probe with the trigger dropped,
 * after the index change, alternating runs (W0, prefetch 100): C=50 8,112 / 8,441 / 8,002 -> 10,771 /
 * 10,403 / 9,483 executions/s. The writers: the claim (`pick_due` now also returns the status it found),
 * the checkpoint statement and `apply_checkpoints` (every checkpointed row was `running`),
 * `deliver_event` and cancel. INSERT and DELETE keep their statement-level triggers. The behaviour suite
 * checks after every test that the counts equal a real `count(*)`, so a writer that forgets is caught.
 * Processes of an earlier version must not write to a schema at this version (their updates would go
 * uncounted); 0.1.0 is the first version to ship, with migrations 1-4 together. `apply_checkpoints` and
 * `deliver_event` are repeated whole from migration 3 with only the count lines added: a function is
 * replaced whole, and a released migration is never edited.
 */
import type { MigrationContext } from "../migrations.js";

export function fewerIndexWrites({ s }: MigrationContext): string {
  return `
DROP INDEX ${s}.executions_created;
DROP INDEX ${s}.executions_task_created;

DROP TRIGGER executions_count_update ON ${s}.executions;
DROP FUNCTION ${s}.count_status_change();

DROP FUNCTION ${s}.pick_due(bigint, text[], integer, text[]);
CREATE FUNCTION ${s}.pick_due(now_ms bigint, task_names text[], lim integer, excluded text[] DEFAULT '{}')
RETURNS TABLE (id text, fresh boolean, due_at bigint, old_status text)
LANGUAGE plpgsql VOLATILE ROWS 10
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
BEGIN
  RETURN QUERY
  SELECT e.id, e.started_at IS NULL, e.runnable_at, e.status FROM ${s}.executions e
  WHERE e.runnable_at <= now_ms AND e.task = ANY (task_names) AND e.id <> ALL (excluded)
  ORDER BY e.runnable_at, e.id
  LIMIT lim
  FOR UPDATE SKIP LOCKED;
END $$;

CREATE OR REPLACE FUNCTION ${s}.apply_checkpoints(batch jsonb)
RETURNS TABLE (i integer, applied boolean, task_name text)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  c   jsonb;
  eid text;
  r   record;
  new_status text;
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(batch) LOOP
    i := (c->>'i')::integer;
    eid := c->>'id';
    SELECT e.task, e.status, e.lease_token INTO r FROM ${s}.executions e WHERE e.id = eid FOR UPDATE;
    IF NOT FOUND OR r.status <> 'running' OR r.lease_token <> (c->>'token')::bigint THEN
      applied := false; task_name := NULL; RETURN NEXT; CONTINUE;
    END IF;
    INSERT INTO ${s}.steps AS st
      (execution_id, name, kind, state, result, error, attempts, wake_at, schema, started_at, completed_at)
    SELECT eid, x.name, x.kind, x.state, x.result, x.error, x.attempts, x.wake_at, x.schema, x.started_at, x.completed_at
    FROM jsonb_to_recordset(c->'steps') AS x(name text, kind text, state text, result text, error text,
      attempts integer, wake_at bigint, schema text, started_at bigint, completed_at bigint)
    ON CONFLICT (execution_id, name) DO UPDATE SET
      kind = excluded.kind, state = excluded.state, result = excluded.result, error = excluded.error,
      attempts = excluded.attempts, wake_at = excluded.wake_at, schema = excluded.schema,
      started_at = excluded.started_at, completed_at = excluded.completed_at;
    INSERT INTO ${s}.step_attempts (execution_id, step, attempt, started_at, ended_at, error)
    SELECT eid, x.step, x.attempt, x.started_at, x.ended_at, x.error
    FROM jsonb_to_recordset(c->'attempts') AS x(step text, attempt integer, started_at bigint, ended_at bigint, error text)
    ON CONFLICT DO NOTHING;
    PERFORM ${s}.apply_patch(eid, c->'patch', (c->>'now')::bigint, (c->>'lease')::bigint);
    -- The row was 'running' (fenced above); count the status it has now, if it changed.
    SELECT e.status INTO new_status FROM ${s}.executions e WHERE e.id = eid;
    IF new_status <> 'running' THEN
      INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (r.task, 'running', -1), (r.task, new_status, 1);
    END IF;
    applied := true; task_name := r.task; RETURN NEXT;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION ${s}.deliver_event(eid text, event_name text, payload text, now_ms bigint, check_schema boolean,
  checked_schema text, claim_worker text, claim_lease bigint, claim_tasks text[])
RETURNS TABLE (outcome text, task_name text, wait_schema text, claimed json, claimed_steps json)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  r record;
  w record;
  e ${s}.executions;
BEGIN
  -- Locking the row serialises racing deliveries: the second sees 'pending' and gets not_waiting.
  SELECT x.status, x.task INTO r FROM ${s}.executions x WHERE x.id = eid FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text, NULL::json, NULL::json; RETURN;
  END IF;
  IF r.status <> 'waiting' THEN
    RETURN QUERY SELECT 'not_waiting'::text, r.task, NULL::text, NULL::json, NULL::json; RETURN;
  END IF;
  -- A new statement, so a new snapshot taken after the lock: it agrees with the row we hold.
  SELECT st.schema INTO w FROM ${s}.steps st
  WHERE st.execution_id = eid AND st.name = event_name AND st.kind = 'event' AND st.state = 'waiting';
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_waiting'::text, r.task, NULL::text, NULL::json, NULL::json; RETURN;
  END IF;
  IF check_schema AND w.schema IS NOT NULL AND w.schema IS DISTINCT FROM checked_schema THEN
    RETURN QUERY SELECT 'validate'::text, r.task, w.schema, NULL::json, NULL::json; RETURN;
  END IF;
  UPDATE ${s}.steps SET state = 'completed', result = payload, completed_at = now_ms
  WHERE execution_id = eid AND name = event_name;
  IF claim_worker IS NOT NULL AND r.task = ANY (claim_tasks) THEN
    UPDATE ${s}.executions x
    SET status = 'running', lease_token = x.lease_token + 1, lease_owner = claim_worker, runnable_at = now_ms + claim_lease,
        started_at = COALESCE(x.started_at, now_ms), attempt = GREATEST(x.attempt, 1), waiting_for_event = NULL,
        current_step = NULL, steps_completed = x.steps_completed + 1, updated_at = now_ms
    WHERE x.id = eid RETURNING x.* INTO e;
    INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (r.task, 'waiting', -1), (r.task, 'running', 1);
    RETURN QUERY SELECT 'delivered'::text, r.task, NULL::text, row_to_json(e),
      (SELECT json_agg(json_build_object(${STEP_FIELDS}) ORDER BY st.started_at, st.name) FROM ${s}.steps st WHERE st.execution_id = eid);
    RETURN;
  END IF;
  UPDATE ${s}.executions
  SET status = 'pending', runnable_at = now_ms, waiting_for_event = NULL, current_step = NULL,
      steps_completed = steps_completed + 1, updated_at = now_ms
  WHERE id = eid;
  INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (r.task, 'waiting', -1), (r.task, 'pending', 1);
  RETURN QUERY SELECT 'delivered'::text, r.task, NULL::text, NULL::json, NULL::json;
END $$;
`;
}

/** The step columns as json_build_object arguments (a migration must not change with later code). */
const STEP_FIELDS = [
  "execution_id",
  "name",
  "kind",
  "state",
  "result",
  "error",
  "attempts",
  "wake_at",
  "schema",
  "started_at",
  "completed_at",
]
  .map((c) => `'${c}', st.${c}`)
  .join(", ");
