/**
 * Migration 3: the hot paths made cheaper and their plans made stable. Never edit once released.
 * Profiled on PostgreSQL 15.20 (fsync on, 2 cores) with perf, auto_explain and pg_stat_user_functions.
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
 * 2. Two ways to apply a batch. `apply_checkpoints` keeps migration 2's loop (one checkpoint at a time,
 *    in order); `apply_checkpoint_set` applies a batch with one statement per table. Measured per batch of
 *    completions on a 50,000-row table: 1 checkpoint 0.59 ms (loop) vs 0.90 ms (set), 4: 0.75 vs 0.95,
 *    16: 1.67 vs 1.52, 64: 4.84 vs 3.25 ms. The store picks the set form from 16 checkpoints up; a batch
 *    naming one execution twice (parallel steps) always takes the loop, which alone promises order.
 * 3. Counts on INSERT and DELETE: statement-level triggers with transition tables, one grouped INSERT per
 *    statement instead of a plpgsql call and an INSERT per row. UPDATE keeps a row-level trigger whose
 *    WHEN clause skips the many updates that change no status (see below: measured cheaper for W1).
 * 4. Event delivery is one function call (one round trip, an implicit transaction) instead of BEGIN, two
 *    reads, two updates and COMMIT: six round trips while holding the row lock, on the path of every
 *    event wake-up. A wait with a payload schema answers `validate` with the schema (nothing written);
 *    the store checks the payload in JavaScript and calls again with the schema it checked.
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

/**
 * The set-based batch. Every statement sees the previous ones (plpgsql runs them in sequence), which keeps
 * migration 2's per-checkpoint order: steps, then attempts, then the failed-step cleanup of a task-level
 * retry, then the row itself (whose retry recount reads the steps left after the cleanup).
 */
function setApply(s: string): string {
  return `
CREATE FUNCTION ${s}.apply_checkpoint_set(batch jsonb)
RETURNS TABLE (i integer, applied boolean, task_name text)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  ok_ids   text[];
  ok_tasks  text[];
  retry_ids text[];
BEGIN
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(batch) b WHERE (b->'patch'->>'status') IS NULL
             OR b->'patch'->>'status' NOT IN ('running', 'waiting', 'requeue', 'completed', 'failed')) THEN
    RAISE EXCEPTION 'zart: unknown checkpoint patch status';
  END IF;
  IF (SELECT count(DISTINCT b->>'id') <> count(*) FROM jsonb_array_elements(batch) b) THEN
    RETURN QUERY SELECT * FROM ${s}.apply_checkpoints(batch);
    RETURN;
  END IF;
  -- The fence. Rows are locked in id order (the same order every batch and lease renewal uses, so they
  -- cannot deadlock), by primary key, and only then checked: running, under this checkpoint's token.
  WITH locked AS MATERIALIZED (
    SELECT e.id, e.task, e.status, e.lease_token FROM ${s}.executions e
    WHERE e.id = ANY (ARRAY(SELECT b->>'id' FROM jsonb_array_elements(batch) b))
    ORDER BY e.id FOR UPDATE
  )
  SELECT array_agg(l.id), array_agg(l.task) INTO ok_ids, ok_tasks
  FROM locked l JOIN jsonb_to_recordset(batch) AS c(id text, token bigint) ON c.id = l.id
  WHERE l.status = 'running' AND l.lease_token = c.token;

  IF ok_ids IS NOT NULL THEN
    INSERT INTO ${s}.steps AS st
      (execution_id, name, kind, state, result, error, attempts, wake_at, schema, started_at, completed_at)
    SELECT c.id, x.name, x.kind, x.state, x.result, x.error, x.attempts, x.wake_at, x.schema, x.started_at, x.completed_at
    FROM jsonb_to_recordset(batch) AS c(id text, steps jsonb),
      jsonb_to_recordset(c.steps) AS x(name text, kind text, state text, result text, error text,
        attempts integer, wake_at bigint, schema text, started_at bigint, completed_at bigint)
    WHERE c.id = ANY (ok_ids)
    ON CONFLICT (execution_id, name) DO UPDATE SET
      kind = excluded.kind, state = excluded.state, result = excluded.result, error = excluded.error,
      attempts = excluded.attempts, wake_at = excluded.wake_at, schema = excluded.schema,
      started_at = excluded.started_at, completed_at = excluded.completed_at;

    INSERT INTO ${s}.step_attempts (execution_id, step, attempt, started_at, ended_at, error)
    SELECT c.id, x.step, x.attempt, x.started_at, x.ended_at, x.error
    FROM jsonb_to_recordset(batch) AS c(id text, attempts jsonb),
      jsonb_to_recordset(c.attempts) AS x(step text, attempt integer, started_at bigint, ended_at bigint, error text)
    WHERE c.id = ANY (ok_ids)
    ON CONFLICT DO NOTHING;

    -- A task-level retry runs failed steps again; their attempt history stays in step_attempts. Rare, so
    -- its ids come first and the DELETE runs only when there are some (its plan, cached while the table
    -- was small, would otherwise be a sequential scan of steps on every batch).
    SELECT array_agg(c.id) INTO retry_ids FROM jsonb_to_recordset(batch) AS c(id text, patch jsonb)
    WHERE c.id = ANY (ok_ids) AND c.patch->>'status' = 'requeue' AND c.patch->>'retryAttempt' IS NOT NULL;
    IF retry_ids IS NOT NULL THEN
      DELETE FROM ${s}.steps st WHERE st.execution_id = ANY (retry_ids) AND st.state = 'failed';
    END IF;

    -- One UPDATE for every kind of patch; each column keeps its value unless its kind sets it.
    UPDATE ${s}.executions e SET
      status = CASE p.kind
        WHEN 'running' THEN e.status
        WHEN 'requeue' THEN CASE WHEN p.run_at <= c.now THEN 'pending' ELSE 'waiting' END
        ELSE p.kind END,
      current_step = CASE WHEN p.kind IN ('running', 'waiting') THEN p.current_step END,
      waiting_for_event = CASE p.kind WHEN 'running' THEN e.waiting_for_event WHEN 'waiting' THEN p.waiting_for_event END,
      steps_completed = CASE
        WHEN p.kind = 'requeue' AND p.retry_attempt IS NOT NULL THEN
          (SELECT count(*) FROM ${s}.steps st WHERE st.execution_id = e.id AND st.state = 'completed')
        WHEN p.kind = 'requeue' THEN e.steps_completed
        ELSE p.steps_completed END,
      runnable_at = CASE p.kind
        WHEN 'running' THEN e.runnable_at WHEN 'waiting' THEN p.wake_at WHEN 'requeue' THEN p.run_at END,
      lease_owner = CASE WHEN p.kind = 'running' THEN e.lease_owner END,
      attempt = CASE WHEN p.kind = 'requeue' THEN COALESCE(p.retry_attempt, e.attempt) ELSE e.attempt END,
      output = CASE WHEN p.kind = 'completed' THEN p.output ELSE e.output END,
      error = CASE
        WHEN p.kind = 'failed' THEN p.error
        WHEN p.kind = 'requeue' AND p.retry_attempt IS NOT NULL THEN NULL
        ELSE e.error END,
      completed_at = CASE WHEN p.kind IN ('completed', 'failed') THEN c.now ELSE e.completed_at END,
      updated_at = c.now
    FROM jsonb_to_recordset(batch) AS c(id text, now bigint, patch jsonb),
      LATERAL (SELECT c.patch->>'status' AS kind, c.patch->>'currentStep' AS current_step,
        c.patch->>'waitingForEvent' AS waiting_for_event, (c.patch->>'stepsCompleted')::integer AS steps_completed,
        (c.patch->>'wakeAt')::bigint AS wake_at, (c.patch->>'runAt')::bigint AS run_at,
        (c.patch->>'retryAttempt')::integer AS retry_attempt, c.patch->>'outputJson' AS output,
        c.patch->>'error' AS error) AS p
    WHERE e.id = ANY (ok_ids) AND c.id = e.id;
  END IF;

  RETURN QUERY
    SELECT c.i, k.id IS NOT NULL, k.task
    FROM jsonb_to_recordset(batch) AS c(i integer, id text)
    LEFT JOIN unnest(ok_ids, ok_tasks) AS k(id, task) ON k.id = c.id;
END $$;
`;
}

function pinnedReads(s: string): string {
  return `
-- The oldest due rows of these tasks, locked (SKIP LOCKED: concurrent claimers take disjoint rows).
CREATE FUNCTION ${s}.pick_due(now_ms bigint, task_names text[], lim integer)
RETURNS TABLE (id text, fresh boolean, due_at bigint)
LANGUAGE sql VOLATILE ROWS 10
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
  SELECT e.id, e.started_at IS NULL, e.runnable_at FROM ${s}.executions e
  WHERE e.runnable_at <= now_ms AND e.task = ANY (task_names)
  ORDER BY e.runnable_at, e.id
  LIMIT lim
  FOR UPDATE SKIP LOCKED
$$;

CREATE FUNCTION ${s}.next_wake(task_names text[]) RETURNS bigint
LANGUAGE sql STABLE
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
  SELECT e.runnable_at FROM ${s}.executions e
  WHERE e.runnable_at IS NOT NULL AND e.task = ANY (task_names)
  ORDER BY e.runnable_at, e.id LIMIT 1
$$;
`;
}

function deliverFunction(s: string): string {
  return `
-- Outcomes in the contract's order: not_found, not_waiting (not parked on this event), validate (the wait
-- has a schema other than checked_schema: check the payload and call again), delivered.
CREATE FUNCTION ${s}.deliver_event(eid text, event_name text, payload text, now_ms bigint, check_schema boolean, checked_schema text)
RETURNS TABLE (outcome text, task_name text, wait_schema text)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  r record;
  w record;
BEGIN
  -- Locking the row serialises racing deliveries: the second sees 'pending' and gets not_waiting.
  SELECT e.status, e.task INTO r FROM ${s}.executions e WHERE e.id = eid FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text; RETURN;
  END IF;
  IF r.status <> 'waiting' THEN
    RETURN QUERY SELECT 'not_waiting'::text, r.task, NULL::text; RETURN;
  END IF;
  -- A new statement, so a new snapshot taken after the lock: it agrees with the row we hold.
  SELECT st.schema INTO w FROM ${s}.steps st
  WHERE st.execution_id = eid AND st.name = event_name AND st.kind = 'event' AND st.state = 'waiting';
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_waiting'::text, r.task, NULL::text; RETURN;
  END IF;
  IF check_schema AND w.schema IS NOT NULL AND w.schema IS DISTINCT FROM checked_schema THEN
    RETURN QUERY SELECT 'validate'::text, r.task, w.schema; RETURN;
  END IF;
  UPDATE ${s}.steps SET state = 'completed', result = payload, completed_at = now_ms
  WHERE execution_id = eid AND name = event_name;
  UPDATE ${s}.executions
  SET status = 'pending', runnable_at = now_ms, waiting_for_event = NULL, current_step = NULL,
      steps_completed = steps_completed + 1, updated_at = now_ms
  WHERE id = eid;
  RETURN QUERY SELECT 'delivered'::text, r.task, NULL::text;
END $$;
`;
}

export function setBasedWrites({ s }: MigrationContext): string {
  return countTriggers(s) + checkpointApply(s) + setApply(s) + pinnedReads(s) + deliverFunction(s);
}
