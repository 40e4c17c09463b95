/**
 * Migration 3: the hot write path made set-based and cheaper per row. Never edit once released.
 *
 * Profiled on PostgreSQL 15.20 (fsync on, 2 cores), W0 with prefetch at C=50, PostgreSQL CPU per execution:
 * 146 µs; the row-level count triggers cost ~33 µs of it and the per-checkpoint plpgsql loop (five SPI
 * statements per checkpoint, each re-reading jsonb) most of the rest. So:
 *
 * 1. Counts: statement-level triggers with transition tables. One grouped INSERT per statement instead of
 *    a plpgsql call and a two-row INSERT per changed row. A claim of 100 rows writes 2 delta rows, not 200.
 * 2. `apply_checkpoints()` applies a batch with one statement per table (fence, steps, attempts, failed-step
 *    cleanup, executions) instead of a loop. A batch that names an execution twice (parallel steps of one
 *    execution) still goes through the ordered loop of migration 2, renamed `apply_checkpoints_ordered`,
 *    because set-based statements cannot promise "in order" for two writes of one row.
 * 3. The fence looks rows up by primary key only (`id = ANY(...)`) and checks status and token on the
 *    locked row. `WHERE id = x AND status = 'running'` let the planner, after ANALYZE had seen few running
 *    rows, walk `executions_status_created` over every running row per checkpoint: measured 2x slower
 *    end to end (7,400 -> 3,000 W0/s) once autovacuum had analyzed the table.
 *    Every statement reaches `executions` and `steps` through their primary keys (`= ANY(ids)`): joined to
 *    `jsonb_to_recordset` (estimated at 100 rows) the planner otherwise picked hash joins over sequential
 *    scans of the whole table.
 * 4. The claim and next-wake-up reads go through functions that pin their plan to the claim index
 *    (`SET enable_sort/seqscan/bitmapscan = off` for those statements only). On a freshly filled table
 *    without statistics the planner chose a bitmap scan of a task index plus a sort of every row of the
 *    task (0.6-0.7 ms per claim at 3,000 rows, growing with the table), or a sequential scan, instead of
 *    reading `limit` entries of the small partial index in order. `pick_due` declares ROWS 10: with the
 *    default estimate of 1,000 rows the claim's UPDATE joined its picks to a sequential scan of
 *    `executions` by hash (seen in perf as most of PostgreSQL's CPU at concurrency 10).
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

-- Updates that change no status (progress, lease renewals) net to zero per (task, status) and write nothing.
CREATE FUNCTION ${s}.count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${s}.count_deltas (task, status, delta)
  SELECT task, status, sum(d) FROM (
    SELECT task, status, -1 AS d FROM old_rows UNION ALL SELECT task, status, 1 FROM new_rows
  ) changes GROUP BY task, status HAVING sum(d) <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER executions_count_insert AFTER INSERT ON ${s}.executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_inserted();
CREATE TRIGGER executions_count_delete AFTER DELETE ON ${s}.executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_deleted();
CREATE TRIGGER executions_count_update AFTER UPDATE ON ${s}.executions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_updated();

ALTER TABLE ${s}.executions SET (fillfactor = 80);
`;
}

/** Migration 2's loop, unchanged but for the fence (primary key first) and the lease-free running patch. */
function orderedApply(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.apply_patch(eid text, p jsonb, now_ms bigint, lease_ms bigint) RETURNS void
LANGUAGE plpgsql AS $$
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

DROP FUNCTION ${s}.apply_checkpoints(jsonb);

CREATE FUNCTION ${s}.apply_checkpoints_ordered(batch jsonb)
RETURNS TABLE (i integer, applied boolean, task_name text)
LANGUAGE plpgsql AS $$
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
function setBasedApply(s: string): string {
  return `
CREATE FUNCTION ${s}.apply_checkpoints(batch jsonb)
RETURNS TABLE (i integer, applied boolean, task_name text)
LANGUAGE plpgsql AS $$
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
    RETURN QUERY SELECT * FROM ${s}.apply_checkpoints_ordered(batch);
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

export function setBasedWrites({ s }: MigrationContext): string {
  return countTriggers(s) + orderedApply(s) + setBasedApply(s) + pinnedReads(s);
}
