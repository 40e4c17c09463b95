/**
 * Migration 3: the hot paths made cheaper and their plans made stable. Never edit once released.
 * Profiled on PostgreSQL 15.20 (fsync on, 2 cores) with perf, auto_explain and pg_stat_user_functions.
 * Throughput, CPU and transactions per execution, the ANALYZE effect and per-function times below are
 * reproducible with `bench/src/probe-drain.ts` (PROBE_ANALYZE, PROBE_FUNCTIONS); the plans were read with
 * auto_explain in one-off sessions, and the before-fix figures need the code as it was before this file.
 *
 * 1. Plans pinned to primary keys and the claim index. Found in the profiles: (a) the fence
 *    `WHERE id = x AND status = 'running'`, once ANALYZE had seen few running rows, walked
 *    `executions_status_created` over every running row per checkpoint (W0 7,400 -> 3,000/s after an
 *    analyze); (b) on a table without statistics the claim sorted every row of the task from a task index
 *    or a sequential scan instead of reading `limit` entries of the claim index in order (0.6-0.7 ms per
 *    claim at 3,000 rows, growing with the table); (c) plpgsql caches a generic plan, and one made while a
 *    table was tiny is a sequential scan. So the fence locks by primary key and checks status and token on
 *    the locked row; claim and next-wake-up go through `pick_due`/`next_wake` with sort, sequential and
 *    bitmap scans off for their statements only; the write functions run with `enable_seqscan = off`.
 *    `pick_due` declares ROWS 10: with the default estimate of 1,000 the claim's UPDATE joined its picks to
 *    a sequential scan of `executions` by hash (most of PostgreSQL's CPU at concurrency 10 in perf).
 * 2. `apply_checkpoints` keeps migration 2's loop (one checkpoint at a time, in order) for small batches and
 *    the batches that need order; larger ones go through one prepared statement (checkpoint-statement.ts).
 * 3. Counts on INSERT and DELETE: statement-level triggers with transition tables, one grouped INSERT per
 *    statement instead of a plpgsql call and an INSERT per row. UPDATE keeps a row-level trigger whose
 *    WHEN clause skips the many updates that change no status (see below: measured cheaper for W1).
 * 4. Event delivery is one function call (one round trip, an implicit transaction) instead of BEGIN, two
 *    reads, two updates and COMMIT: six round trips while holding the row lock, on the path of every
 *    event wake-up. A wait with a payload schema answers `validate` with the schema (nothing written);
 *    the store checks the payload in JavaScript and calls again with the schema it checked. A process that
 *    runs the task may claim the execution in the same call (eager resume, see DeliverRequest.claimFor).
 * 5. A `running` checkpoint no longer extends the lease (the lease keeper renews every third of the lease):
 *    it then changes no indexed column, so PostgreSQL can update the row in place (HOT) without touching
 *    the six indexes. fillfactor 80 leaves room on each page for those in-place versions.
 */
import type { MigrationContext } from "../migrations.js";

function countTriggers(s: string): string {
  return `
DROP TRIGGER executions_count_insert_delete ON ${s}.executions;
DROP TRIGGER executions_count_update ON ${s}.executions;
DROP FUNCTION ${s}.record_count_delta();

CREATE FUNCTION ${s}.count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${s}.count_deltas (task, status, delta) SELECT task, status, count(*) FROM new_rows GROUP BY task, status;
  RETURN NULL;
END $$;

CREATE FUNCTION ${s}.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${s}.count_deltas (task, status, delta) SELECT task, status, -count(*) FROM old_rows GROUP BY task, status;
  RETURN NULL;
END $$;

CREATE TRIGGER executions_count_insert AFTER INSERT ON ${s}.executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_inserted();
CREATE TRIGGER executions_count_delete AFTER DELETE ON ${s}.executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_deleted();
-- Updates keep migration 1's row-level trigger (re-created: its function was replaced above), because
-- its WHEN clause skips progress checkpoints and lease renewals at no cost, while a statement-level
-- trigger runs for every UPDATE statement: measured 68 µs of PostgreSQL CPU per W1 execution at C=10.
CREATE FUNCTION ${s}.count_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (OLD.task, OLD.status, -1), (NEW.task, NEW.status, 1);
  RETURN NULL;
END $$;
CREATE TRIGGER executions_count_update AFTER UPDATE ON ${s}.executions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.task IS DISTINCT FROM NEW.task)
  EXECUTE FUNCTION ${s}.count_status_change();

ALTER TABLE ${s}.executions SET (fillfactor = 80);
`;
}

/** Migration 2's loop, unchanged but for the fence (primary key first) and the lease-free running patch. */
function checkpointApply(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.apply_patch(eid text, p jsonb, now_ms bigint, lease_ms bigint) RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  kind   text := p->>'status';
  run_at bigint;
BEGIN
  IF kind = 'running' THEN
    UPDATE ${s}.executions
    SET current_step = p->>'currentStep', steps_completed = (p->>'stepsCompleted')::integer, updated_at = now_ms
    WHERE id = eid;
  ELSIF kind = 'waiting' THEN
    UPDATE ${s}.executions
    SET status = 'waiting', current_step = p->>'currentStep', waiting_for_event = p->>'waitingForEvent',
        steps_completed = (p->>'stepsCompleted')::integer, runnable_at = (p->>'wakeAt')::bigint,
        lease_owner = NULL, updated_at = now_ms
    WHERE id = eid;
  ELSIF kind = 'requeue' THEN
    run_at := (p->>'runAt')::bigint;
    IF p->>'retryAttempt' IS NOT NULL THEN
      DELETE FROM ${s}.steps WHERE execution_id = eid AND state = 'failed';
    END IF;
    UPDATE ${s}.executions
    SET status = CASE WHEN run_at <= now_ms THEN 'pending' ELSE 'waiting' END, runnable_at = run_at,
        lease_owner = NULL, current_step = NULL, waiting_for_event = NULL, updated_at = now_ms,
        attempt = COALESCE((p->>'retryAttempt')::integer, attempt),
        error = CASE WHEN p->>'retryAttempt' IS NULL THEN error ELSE NULL END,
        steps_completed = CASE WHEN p->>'retryAttempt' IS NULL THEN steps_completed ELSE
          (SELECT count(*) FROM ${s}.steps st WHERE st.execution_id = eid AND st.state = 'completed') END
    WHERE id = eid;
  ELSIF kind = 'completed' THEN
    UPDATE ${s}.executions
    SET status = 'completed', output = p->>'outputJson', completed_at = now_ms, runnable_at = NULL,
        current_step = NULL, waiting_for_event = NULL, steps_completed = (p->>'stepsCompleted')::integer,
        lease_owner = NULL, updated_at = now_ms
    WHERE id = eid;
  ELSIF kind = 'failed' THEN
    UPDATE ${s}.executions
    SET status = 'failed', error = p->>'error', completed_at = now_ms, runnable_at = NULL,
        current_step = NULL, waiting_for_event = NULL, steps_completed = (p->>'stepsCompleted')::integer,
        lease_owner = NULL, updated_at = now_ms
    WHERE id = eid;
  ELSE
    RAISE EXCEPTION 'zart: unknown checkpoint patch status %', kind;
  END IF;
END $$;

CREATE OR REPLACE FUNCTION ${s}.apply_checkpoints(batch jsonb)
RETURNS TABLE (i integer, applied boolean, task_name text)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  c   jsonb;
  eid text;
  r   record;
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
    applied := true; task_name := r.task; RETURN NEXT;
  END LOOP;
END $$;
`;
}

function pinnedReads(s: string): string {
  return `
-- The oldest due rows of these tasks, locked (SKIP LOCKED: concurrent claimers take disjoint rows).
-- plpgsql, not SQL: a SQL function with SET clauses is never inlined and re-plans its query on every
-- call (measured 115 µs of PostgreSQL time per claim); plpgsql keeps the plan for the session.
-- \`excluded\`: rows a checkpoint in the same statement writes (a claim folded into a checkpoint batch).
CREATE FUNCTION ${s}.pick_due(now_ms bigint, task_names text[], lim integer, excluded text[] DEFAULT '{}')
RETURNS TABLE (id text, fresh boolean, due_at bigint)
LANGUAGE plpgsql VOLATILE ROWS 10
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
BEGIN
  RETURN QUERY
  SELECT e.id, e.started_at IS NULL, e.runnable_at FROM ${s}.executions e
  WHERE e.runnable_at <= now_ms AND e.task = ANY (task_names) AND e.id <> ALL (excluded)
  ORDER BY e.runnable_at, e.id
  LIMIT lim
  FOR UPDATE SKIP LOCKED;
END $$;

CREATE FUNCTION ${s}.next_wake(task_names text[]) RETURNS bigint
LANGUAGE plpgsql STABLE
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
BEGIN
  RETURN (SELECT e.runnable_at FROM ${s}.executions e
          WHERE e.runnable_at IS NOT NULL AND e.task = ANY (task_names)
          ORDER BY e.runnable_at, e.id LIMIT 1);
END $$;
`;
}

function deliverFunction(s: string): string {
  return `
-- Outcomes in the contract's order: not_found, not_waiting (not parked on this event), validate (the wait
-- has a schema other than checked_schema: check the payload and call again), delivered. With claim_worker
-- set and the execution of one of claim_tasks, the delivery also claims it for that worker (eager resume:
-- running under a new lease, as pick_due + the claim UPDATE would leave it) and returns the row and steps.
CREATE FUNCTION ${s}.deliver_event(eid text, event_name text, payload text, now_ms bigint, check_schema boolean,
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
    RETURN QUERY SELECT 'delivered'::text, r.task, NULL::text, row_to_json(e),
      (SELECT json_agg(json_build_object(${STEP_FIELDS}) ORDER BY st.started_at, st.name) FROM ${s}.steps st WHERE st.execution_id = eid);
    RETURN;
  END IF;
  UPDATE ${s}.executions
  SET status = 'pending', runnable_at = now_ms, waiting_for_event = NULL, current_step = NULL,
      steps_completed = steps_completed + 1, updated_at = now_ms
  WHERE id = eid;
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

export function stableHotPaths({ s }: MigrationContext): string {
  return countTriggers(s) + checkpointApply(s) + pinnedReads(s) + deliverFunction(s);
}
