-- PostgreSQL schema built by the migrations, normalised (objects sorted by name; no ledger rows).
-- Generated: do not edit. Regenerate with `npm run schema:dump`; `npm test` fails when it differs.

-- Tables

CREATE TABLE zart.count_deltas (
  task text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  delta integer NOT NULL
);

CREATE TABLE zart.events (
  id bigint DEFAULT nextval('zart.events_id_seq'::regclass) NOT NULL,
  execution_id text COLLATE "C" NOT NULL,
  name text NOT NULL,
  payload text NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE zart.executions (
  id text COLLATE "C" NOT NULL,
  task text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  data text NOT NULL,
  idempotency_key text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  started_at bigint,
  completed_at bigint,
  output text,
  error text,
  steps_completed integer DEFAULT 0 NOT NULL,
  current_step text,
  waiting_for_event text,
  attempt integer DEFAULT 0 NOT NULL,
  runnable_at bigint,
  lease_token bigint DEFAULT 0 NOT NULL,
  lease_owner text,
  timeout_from bigint,
  crashes integer DEFAULT 0 NOT NULL,
  wake_requested integer DEFAULT 0 NOT NULL,
  parent_id text COLLATE "C",
  parent_step text,
  cancel_with_parent integer DEFAULT 1 NOT NULL,
  rerun_of text,
  schedule_id text,
  priority integer DEFAULT 0 NOT NULL,
  concurrency_key text COLLATE "C",
  concurrency_limit integer,
  start_at bigint,
  traceparent text,
  buffered_events integer DEFAULT 0 NOT NULL
) WITH (fillfactor=80);

CREATE TABLE zart.migrations (
  version integer NOT NULL,
  name text NOT NULL,
  applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE zart.schedules (
  schedule_id text COLLATE "C" NOT NULL,
  task text NOT NULL,
  cron text NOT NULL,
  timezone text NOT NULL,
  data text NOT NULL,
  overlap text NOT NULL,
  paused integer DEFAULT 0 NOT NULL,
  source text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  last_tick_at bigint,
  held_tick_at bigint,
  next_tick_at bigint,
  last_execution_id text,
  revision integer DEFAULT 0 NOT NULL,
  declared text
);

CREATE TABLE zart.status_counts (
  task text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  n bigint NOT NULL
);

CREATE TABLE zart.step_attempts (
  execution_id text COLLATE "C" NOT NULL,
  step text COLLATE "C" NOT NULL,
  attempt integer NOT NULL,
  execution_attempt integer NOT NULL,
  started_at bigint NOT NULL,
  ended_at bigint NOT NULL,
  error text NOT NULL
);

CREATE TABLE zart.steps (
  execution_id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  state text NOT NULL,
  result text,
  error text,
  attempts integer DEFAULT 0 NOT NULL,
  wake_at bigint,
  schema text,
  started_at bigint NOT NULL,
  completed_at bigint,
  seq integer DEFAULT 0 NOT NULL,
  child_id text,
  copied_from text,
  settled_in bigint,
  execution_attempt integer,
  attempt_started_at bigint
);

CREATE TABLE zart.tasks (
  name text COLLATE "C" NOT NULL,
  input_schema text,
  options text,
  worker_id text NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE zart.workers (
  worker_id text COLLATE "C" NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  tasks text NOT NULL,
  concurrency integer NOT NULL,
  running integer NOT NULL,
  lease_ms bigint NOT NULL,
  started_at bigint NOT NULL,
  last_seen_at bigint NOT NULL
);

-- Constraints

ALTER TABLE zart.events ADD CONSTRAINT events_pkey PRIMARY KEY (id);
ALTER TABLE zart.executions ADD CONSTRAINT executions_pkey PRIMARY KEY (id);
ALTER TABLE zart.migrations ADD CONSTRAINT migrations_pkey PRIMARY KEY (version);
ALTER TABLE zart.schedules ADD CONSTRAINT schedules_pkey PRIMARY KEY (schedule_id);
ALTER TABLE zart.status_counts ADD CONSTRAINT status_counts_pkey PRIMARY KEY (task, status);
ALTER TABLE zart.step_attempts ADD CONSTRAINT step_attempts_pkey PRIMARY KEY (execution_id, step, attempt);
ALTER TABLE zart.steps ADD CONSTRAINT steps_pkey PRIMARY KEY (execution_id, name);
ALTER TABLE zart.tasks ADD CONSTRAINT tasks_pkey PRIMARY KEY (name);
ALTER TABLE zart.workers ADD CONSTRAINT workers_pkey PRIMARY KEY (worker_id);

-- Indexes

CREATE INDEX events_execution ON zart.events USING btree (execution_id, id);
CREATE UNIQUE INDEX events_pkey ON zart.events USING btree (id);
CREATE INDEX executions_due ON zart.executions USING btree (runnable_at, id) WHERE ((runnable_at IS NOT NULL) AND (priority = 0));
CREATE INDEX executions_due_limited ON zart.executions USING btree (runnable_at) WHERE ((runnable_at IS NOT NULL) AND (concurrency_limit IS NOT NULL));
CREATE INDEX executions_due_priority ON zart.executions USING btree (priority DESC, runnable_at, id) WHERE ((runnable_at IS NOT NULL) AND (priority <> 0));
CREATE INDEX executions_group_running ON zart.executions USING btree (task, concurrency_key) WHERE ((status = 'running'::text) AND (concurrency_limit IS NOT NULL));
CREATE UNIQUE INDEX executions_idempotency_key ON zart.executions USING btree (idempotency_key) WHERE (idempotency_key IS NOT NULL);
CREATE INDEX executions_parent ON zart.executions USING btree (parent_id) WHERE (parent_id IS NOT NULL);
CREATE UNIQUE INDEX executions_pkey ON zart.executions USING btree (id);
CREATE INDEX executions_schedule ON zart.executions USING btree (schedule_id, created_at) WHERE (schedule_id IS NOT NULL);
CREATE INDEX executions_slot_wait ON zart.executions USING btree (task, concurrency_key, priority DESC, created_at, id) WHERE ((status = 'pending'::text) AND (runnable_at IS NULL));
CREATE INDEX executions_status_created ON zart.executions USING btree (status, created_at, id);
CREATE INDEX executions_task_status_created ON zart.executions USING btree (task, status, created_at, id);
CREATE UNIQUE INDEX migrations_pkey ON zart.migrations USING btree (version);
CREATE INDEX schedules_held ON zart.schedules USING btree (held_tick_at) WHERE (held_tick_at IS NOT NULL);
CREATE INDEX schedules_next_tick ON zart.schedules USING btree (next_tick_at) WHERE (next_tick_at IS NOT NULL);
CREATE UNIQUE INDEX schedules_pkey ON zart.schedules USING btree (schedule_id);
CREATE UNIQUE INDEX status_counts_pkey ON zart.status_counts USING btree (task, status);
CREATE UNIQUE INDEX step_attempts_pkey ON zart.step_attempts USING btree (execution_id, step, attempt);
CREATE UNIQUE INDEX steps_pkey ON zart.steps USING btree (execution_id, name);
CREATE UNIQUE INDEX tasks_pkey ON zart.tasks USING btree (name);
CREATE UNIQUE INDEX workers_pkey ON zart.workers USING btree (worker_id);

-- Sequences

CREATE SEQUENCE zart.events_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY zart.events.id;

-- Functions

CREATE OR REPLACE FUNCTION zart.compact_counts(lock_key integer)
 RETURNS bigint
 LANGUAGE plpgsql
AS $function$
DECLARE folded bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(1515870810, lock_key) THEN
    RETURN 0;
  END IF;
  WITH gone AS (DELETE FROM zart.count_deltas RETURNING task, status, delta),
  summed AS (SELECT task, status, SUM(delta)::bigint AS n, COUNT(*) AS c FROM gone GROUP BY task, status),
  upserted AS (
    INSERT INTO zart.status_counts AS sc (task, status, n) SELECT task, status, n FROM summed
    ON CONFLICT (task, status) DO UPDATE SET n = sc.n + excluded.n
  )
  SELECT COALESCE(SUM(c), 0) INTO folded FROM summed;
  RETURN folded;
END $function$;

CREATE OR REPLACE FUNCTION zart.count_deleted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  INSERT INTO zart.count_deltas (task, status, delta) SELECT task, status, -count(*) FROM old_rows GROUP BY task, status;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION zart.count_inserted()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  INSERT INTO zart.count_deltas (task, status, delta) SELECT task, status, count(*) FROM new_rows GROUP BY task, status;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION zart.events_of(execution text)
 RETURNS SETOF zart.events
 LANGUAGE plpgsql
 ROWS 4
 SET jit TO 'off'
AS $function$
BEGIN
  RETURN QUERY SELECT * FROM zart.events ev WHERE ev.execution_id = execution;
END $function$;

CREATE OR REPLACE FUNCTION zart.list_page(task_name text, lim bigint, off bigint, descending boolean)
 RETURNS SETOF zart.executions
 LANGUAGE plpgsql
 STABLE
 SET plan_cache_mode TO 'force_generic_plan'
 SET enable_sort TO 'off'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET jit TO 'off'
AS $function$
BEGIN
  IF task_name IS NULL AND descending THEN
    RETURN QUERY SELECT * FROM (
      (SELECT * FROM zart.executions WHERE status = 'pending' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'running' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'waiting' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'completed' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'cancelled' ORDER BY created_at DESC, id DESC LIMIT lim + off)
    ) page ORDER BY created_at DESC, id DESC LIMIT lim OFFSET off;
  ELSIF task_name IS NULL THEN
    RETURN QUERY SELECT * FROM (
      (SELECT * FROM zart.executions WHERE status = 'pending' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'running' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'waiting' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'completed' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'failed' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE status = 'cancelled' ORDER BY created_at, id LIMIT lim + off)
    ) page ORDER BY created_at, id LIMIT lim OFFSET off;
  ELSIF descending THEN
    RETURN QUERY SELECT * FROM (
      (SELECT * FROM zart.executions WHERE task = task_name AND status = 'pending' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'running' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'waiting' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'completed' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'failed' ORDER BY created_at DESC, id DESC LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'cancelled' ORDER BY created_at DESC, id DESC LIMIT lim + off)
    ) page ORDER BY created_at DESC, id DESC LIMIT lim OFFSET off;
  ELSE
    RETURN QUERY SELECT * FROM (
      (SELECT * FROM zart.executions WHERE task = task_name AND status = 'pending' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'running' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'waiting' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'completed' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'failed' ORDER BY created_at, id LIMIT lim + off)
      UNION ALL (SELECT * FROM zart.executions WHERE task = task_name AND status = 'cancelled' ORDER BY created_at, id LIMIT lim + off)
    ) page ORDER BY created_at, id LIMIT lim OFFSET off;
  END IF;
END $function$;

CREATE OR REPLACE FUNCTION zart.next_wake(task_names text[], floor_ms bigint DEFAULT NULL::bigint)
 RETURNS bigint
 LANGUAGE plpgsql
 STABLE
 SET enable_sort TO 'off'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET jit TO 'off'
AS $function$
BEGIN
  RETURN LEAST(
    (SELECT e.runnable_at FROM zart.executions e
      WHERE e.runnable_at >= COALESCE(floor_ms, -9223372036854775807) AND e.priority = 0 AND e.task = ANY (task_names)
      ORDER BY e.runnable_at, e.id LIMIT 1),
    (SELECT min(e.runnable_at) FROM zart.executions e
      WHERE e.runnable_at IS NOT NULL AND e.priority <> 0 AND e.task = ANY (task_names)));
END $function$;

CREATE OR REPLACE FUNCTION zart.pick_due(now_ms bigint, task_names text[], lim integer, excluded text[] DEFAULT '{}'::text[], floor_ms bigint DEFAULT NULL::bigint, tiered boolean DEFAULT false)
 RETURNS TABLE(id text, fresh boolean, due_at bigint, old_status text, declined boolean, contended boolean)
 LANGUAGE plpgsql
 ROWS 10
 SET enable_sort TO 'off'
 SET enable_seqscan TO 'off'
 SET enable_bitmapscan TO 'off'
 SET jit TO 'off'
AS $function$
DECLARE
  ids text[];
  cid text;
  prioritized boolean;
  grps text[];
  used jsonb;
  waiting boolean;
BEGIN
  -- Due rows of priority 0 are read from floor_ms up: below it this store's earlier claims found only
  -- the dead entries that claims and ends leave until VACUUM (decision 037). NULL: from the start.
  floor_ms := COALESCE(floor_ms, -9223372036854775807);
  -- Is anything due limited, and does anything due have a priority? One query for both. Each in the order
  -- of its small index, so that it is the only plan: a plan cached while the table had no statistics would
  -- otherwise walk every row of the task (decision 023). `tiered`: the last claim of these tasks took rows
  -- with a priority (claim-floor.ts), so the second question is not asked (CASE runs only the branch it
  -- takes) and the tiers are read: the priority index's dead entries are walked once, not twice (decision
  -- 041). Either answer is correct.
  SELECT (SELECT x.id FROM zart.executions x
            WHERE x.runnable_at <= now_ms AND x.runnable_at >= floor_ms AND x.concurrency_limit IS NOT NULL
              AND x.task = ANY (task_names)
            ORDER BY x.runnable_at LIMIT 1),
         CASE WHEN tiered THEN true
              ELSE (SELECT x.priority FROM zart.executions x
                      WHERE x.priority <> 0 AND x.runnable_at <= now_ms AND x.task = ANY (task_names)
                      ORDER BY x.priority DESC, x.runnable_at LIMIT 1) IS NOT NULL END
    INTO cid, prioritized;
  IF cid IS NULL AND NOT prioritized THEN
    -- The common case: one range of one index (decision 038). Its snapshot is newer than the question's: a
    -- limited row made due in between (created, or granted a slot) is left for the next claim, which sees
    -- it and counts its slot, rather than taken here without one (its `runnable` notice keeps it above the
    -- floor, claim-floor.ts).
    RETURN QUERY SELECT e.id, e.started_at IS NULL, e.runnable_at, e.status, false, false FROM zart.executions e
      WHERE e.priority = 0 AND e.runnable_at <= now_ms AND e.runnable_at >= floor_ms AND e.task = ANY (task_names)
        AND e.id <> ALL (excluded) AND e.concurrency_limit IS NULL
      ORDER BY e.runnable_at, e.id LIMIT lim FOR UPDATE SKIP LOCKED;
    RETURN;
  END IF;
  -- The due rows are locked by priority, then due time. `cid` asked about limited rows from the floor up,
  -- but the floor bounds only rows of priority 0: a limited row with a priority due below it (left by a
  -- claim that filled up before reaching the negative tier) is not seen there. So whether a slot must be
  -- counted is decided by the rows locked: when none of them needs a slot, they are taken as they are.
  ids := ARRAY(SELECT e.id FROM zart.executions e
      WHERE e.priority > 0 AND e.priority <> 0 AND e.runnable_at <= now_ms AND e.task = ANY (task_names) AND e.id <> ALL (excluded)
      ORDER BY e.priority DESC, e.runnable_at, e.id LIMIT lim FOR UPDATE SKIP LOCKED);
  IF cardinality(ids) < lim THEN
    ids := ids || ARRAY(SELECT e.id FROM zart.executions e
      WHERE e.priority = 0 AND e.runnable_at <= now_ms AND e.runnable_at >= floor_ms AND e.task = ANY (task_names)
        AND e.id <> ALL (excluded)
      ORDER BY e.runnable_at, e.id LIMIT lim - cardinality(ids) FOR UPDATE SKIP LOCKED);
  END IF;
  IF cardinality(ids) < lim THEN
    ids := ids || ARRAY(SELECT e.id FROM zart.executions e
      WHERE e.priority < 0 AND e.priority <> 0 AND e.runnable_at <= now_ms AND e.task = ANY (task_names) AND e.id <> ALL (excluded)
      ORDER BY e.priority DESC, e.runnable_at, e.id LIMIT lim - cardinality(ids) FOR UPDATE SKIP LOCKED);
  END IF;
  IF cid IS NULL AND NOT EXISTS (SELECT 1 FROM zart.executions e
      WHERE e.id = ANY (ids) AND e.concurrency_limit IS NOT NULL AND e.status <> 'running') THEN
    RETURN QUERY SELECT e.id, e.started_at IS NULL, e.runnable_at, e.status, false, false
      FROM unnest(ids) WITH ORDINALITY AS u(uid, ord) JOIN zart.executions e ON e.id = u.uid ORDER BY u.ord;
    RETURN;
  END IF;
  -- Some rows need a slot: each group's slots are counted once (one try-lock per group, one count for all
  -- groups), and the rows are decided in claim order.
  -- A running row (its lease expired) already holds its slot: only the others need one.
  SELECT array_agg(g.grp) INTO grps FROM (
    SELECT DISTINCT e.task || chr(31) || e.concurrency_key AS grp FROM zart.executions e
    WHERE e.id = ANY (ids) AND e.concurrency_limit IS NOT NULL AND e.status <> 'running') g
  WHERE pg_try_advisory_xact_lock(1515870811, hashtext(g.grp));
  grps := COALESCE(grps, '{}');
  -- Running rows per locked group, counted in a statement of its own (it sees every committed claim and release).
  SELECT COALESCE(jsonb_object_agg(x.grp, x.n), '{}') INTO used FROM (
    SELECT w.task || chr(31) || w.concurrency_key AS grp, count(*) AS n FROM zart.executions w
    JOIN (SELECT split_part(g, chr(31), 1) AS task, substr(g, length(split_part(g, chr(31), 1)) + 2) AS key FROM unnest(grps) g) k
      ON w.task = k.task AND w.concurrency_key = k.key
    WHERE w.status = 'running' AND w.concurrency_limit IS NOT NULL GROUP BY 1) x;
  -- Does any row of these tasks wait for a slot? One probe of the slot_wait index, usually empty: when none
  -- does, no row of this claim queues behind one, and the per-row question below is not asked.
  waiting := EXISTS (SELECT 1 FROM zart.executions q
    WHERE q.task = ANY (task_names) AND q.status = 'pending' AND q.runnable_at IS NULL);
  -- In claim order (the order of ids), read in one query, each row by primary key: no sort of the table,
  -- whatever its size (decision 039). The rows are locked, so this later snapshot sees what was locked.
  -- A row that needs a slot queues behind its group's oldest row waiting for one (priority, then creation
  -- order: the slot_wait index's first entry) when that row is ahead of it: it is declined, and the claim's
  -- hand-on after its commit gives a free slot to that row (docs/concurrency.md, "in order"). Otherwise it
  -- is the k-th of its group in claim order to take one: it is declined when the group's running rows plus
  -- k exceed the limit (so every later one of the group is declined too), and left for the next claim (id
  -- NULL, contended) when its group's lock was busy. One statement for all rows, not a loop that rewrites
  -- the counts per row (decision 043).
  RETURN QUERY
  WITH picked AS (
    SELECT e.id AS rid, e.started_at IS NULL AS is_fresh, e.runnable_at AS due, e.status AS st, e.concurrency_limit AS cap,
           u.ord, e.concurrency_limit IS NOT NULL AND e.status <> 'running' AS needs,
           e.task || chr(31) || e.concurrency_key AS g,
           waiting AND e.concurrency_limit IS NOT NULL AND e.status <> 'running' AND EXISTS (
             SELECT 1 FROM (SELECT q.priority, q.created_at, q.id FROM zart.executions q
                 WHERE q.task = e.task AND q.concurrency_key = e.concurrency_key AND q.status = 'pending' AND q.runnable_at IS NULL
                 ORDER BY q.priority DESC, q.created_at, q.id LIMIT 1) h
               WHERE h.priority > e.priority OR (h.priority = e.priority AND (h.created_at, h.id) < (e.created_at, e.id))) AS behind
      FROM unnest(ids) WITH ORDINALITY AS u(uid, ord) JOIN zart.executions e ON e.id = u.uid),
  ranked AS (
    SELECT p.*, p.g = ANY (grps) AS held,
           count(*) FILTER (WHERE p.needs AND NOT p.behind) OVER (PARTITION BY p.g ORDER BY p.ord ROWS UNBOUNDED PRECEDING) AS k
      FROM picked p)
  SELECT CASE WHEN rk.needs AND NOT rk.held THEN NULL ELSE rk.rid END, rk.is_fresh, rk.due, rk.st,
         rk.needs AND rk.held AND (rk.behind OR COALESCE((used ->> rk.g)::integer, 0) + rk.k > rk.cap),
         rk.needs AND NOT rk.held
    FROM ranked rk ORDER BY rk.ord;
  RETURN;
END $function$;

CREATE OR REPLACE FUNCTION zart.steps_of(execution text)
 RETURNS SETOF zart.steps
 LANGUAGE plpgsql
 ROWS 10
 SET jit TO 'off'
AS $function$
BEGIN
  RETURN QUERY SELECT * FROM zart.steps st WHERE st.execution_id = execution;
END $function$;

-- Triggers

CREATE TRIGGER executions_count_delete AFTER DELETE ON zart.executions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zart.count_deleted();
CREATE TRIGGER executions_count_insert AFTER INSERT ON zart.executions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zart.count_inserted();
