-- Zart on PostgreSQL, migration 1: the initial schema.
--
-- The data model in plain words
-- -----------------------------
-- `executions` holds one row per execution of a task. Its `status` is one of pending, running, waiting,
-- completed, failed, cancelled; every change of a row is one of the transitions defined in
-- src/state/transitions.ts, and the statements that apply them are generated from there.
--
-- `runnable_at` answers "when may a worker take this row?" for every kind of wake-up at once: the
-- creation time (or delayed start) of new work, the wake time of a sleep or backoff, the lease expiry of
-- a running execution (so crash recovery is the ordinary claim query), and NULL when only an event, a
-- child's end or a free concurrency slot can make it runnable, or when it has ended. Claims read the
-- partial indexes on it in order, so they stay cheap however many finished rows the table holds.
--
-- `steps` holds the record of every step, sleep, event wait and child start an execution reached (its
-- result, or its failure, or what it waits for); a replay returns these instead of running them again.
-- `step_attempts` keeps every failed attempt of a step. `events` holds events sent before a wait for
-- them (tasks with `events: "buffered"`). `tasks` and `workers` are what workers register and heartbeat;
-- `schedules` are cron schedules.
--
-- Counts without scanning `executions`: a trigger on INSERT/DELETE and every status-changing statement
-- append (task, status, delta) rows to `count_deltas` (appends never wait on each other), and
-- `compact_counts()` folds them into `status_counts` now and then, under a try-lock. Readers add both
-- tables up in one statement, so totals are exact at every instant.
--
-- All times are epoch milliseconds (bigint) on the database's clock (docs/engine.md, "Clocks"). Text keys
-- use COLLATE "C": byte order, as JavaScript and the SQLite store sort, and cheaper comparisons.
-- The schema name `zart` below is replaced by the configured schema when it differs.

CREATE TABLE zart.executions (
  id                 text COLLATE "C" PRIMARY KEY,
  task               text COLLATE "C" NOT NULL,
  status             text COLLATE "C" NOT NULL,
  data               text    NOT NULL,
  idempotency_key    text    NULL,
  created_at         bigint  NOT NULL,
  updated_at         bigint  NOT NULL,
  started_at         bigint  NULL,
  completed_at       bigint  NULL,
  output             text    NULL,
  error              text    NULL,
  steps_completed    integer NOT NULL DEFAULT 0,
  current_step       text    NULL,
  waiting_for_event  text    NULL,
  -- Execution-level attempt: 1 at the first claim, +1 per task-level or operator retry.
  attempt            integer NOT NULL DEFAULT 0,
  runnable_at        bigint  NULL,
  -- The fencing token: +1 per claim; a write carrying an older token is refused.
  lease_token        bigint  NOT NULL DEFAULT 0,
  lease_owner        text    NULL,
  -- The execution timeout counts from here: the first start, or the start after an operator retry.
  timeout_from       bigint  NULL,
  -- Claims that found the row's lease expired since its last recorded step: crashed attempts.
  crashes            integer NOT NULL DEFAULT 0,
  -- 1 when an event or a child's end arrived while the row was running: its next park requeues it.
  wake_requested     integer NOT NULL DEFAULT 0,
  parent_id          text COLLATE "C" NULL,
  parent_step        text    NULL,
  cancel_with_parent integer NOT NULL DEFAULT 1,
  rerun_of           text    NULL,
  schedule_id        text    NULL,
  priority           integer NOT NULL DEFAULT 0,
  -- Concurrency group (task, concurrency_key) and its limit; NULL limit: not limited.
  concurrency_key    text COLLATE "C" NULL,
  concurrency_limit  integer NULL,
  start_at           bigint  NULL,
  traceparent        text    NULL,
  buffered_events    integer NOT NULL DEFAULT 0
) WITH (fillfactor = 80);
-- fillfactor 80: room on each page for the in-place (HOT) versions that progress writes make, since they
-- change no indexed column.

CREATE UNIQUE INDEX executions_idempotency_key ON zart.executions (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The claim indexes. Rows of priority 0 (almost all) are read in due order and the scan stops at the
-- first row not yet due. Other priorities have their own small index, read before (priority > 0) and
-- after (priority < 0) the first; a claim with no such rows pays two probes of an empty index.
CREATE INDEX executions_due ON zart.executions (runnable_at, id) WHERE runnable_at IS NOT NULL AND priority = 0;
CREATE INDEX executions_due_priority ON zart.executions (priority DESC, runnable_at, id)
  WHERE runnable_at IS NOT NULL AND priority <> 0;
-- Due rows of concurrency-limited executions: a claim checks this (empty) index before taking the fast path.
CREATE INDEX executions_due_limited ON zart.executions (runnable_at) WHERE runnable_at IS NOT NULL AND concurrency_limit IS NOT NULL;
-- Running rows per concurrency group (the slot count), and rows waiting for a slot, oldest first.
CREATE INDEX executions_group_running ON zart.executions (task, concurrency_key)
  WHERE status = 'running' AND concurrency_limit IS NOT NULL;
CREATE INDEX executions_slot_wait ON zart.executions (task, concurrency_key, priority DESC, created_at, id)
  WHERE status = 'pending' AND runnable_at IS NULL;

-- List pages: one range per status (a page without a status filter merges the six, see list_page()).
CREATE INDEX executions_status_created ON zart.executions (status, created_at, id);
CREATE INDEX executions_task_status_created ON zart.executions (task, status, created_at, id);
CREATE INDEX executions_parent ON zart.executions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX executions_schedule ON zart.executions (schedule_id, created_at) WHERE schedule_id IS NOT NULL;

CREATE TABLE zart.steps (
  execution_id text COLLATE "C" NOT NULL,
  name         text COLLATE "C" NOT NULL,
  -- step | sleep | event | child
  kind         text    NOT NULL,
  -- completed | failed | waiting | retrying | closed | discarded
  state        text    NOT NULL,
  result       text    NULL,
  error        text    NULL,
  attempts     integer NOT NULL DEFAULT 0,
  wake_at      bigint  NULL,
  schema       text    NULL,
  started_at   bigint  NOT NULL,
  completed_at bigint  NULL,
  -- Order in which the execution first reached it.
  seq          integer NOT NULL DEFAULT 0,
  child_id     text    NULL,
  copied_from  text    NULL,
  -- Final records: the run (lease token) that first saw it final; replays settle calls in this order.
  settled_in   bigint  NULL,
  -- The execution attempt that wrote the record, and when a step's last attempt (the one that decided
  -- it) started: the step timeline's successful attempt. NULL for records written without them.
  execution_attempt  integer NULL,
  attempt_started_at bigint  NULL,
  PRIMARY KEY (execution_id, name)
);

CREATE TABLE zart.step_attempts (
  execution_id      text COLLATE "C" NOT NULL,
  step              text COLLATE "C" NOT NULL,
  attempt           integer NOT NULL,
  execution_attempt integer NOT NULL,
  started_at        bigint  NOT NULL,
  ended_at          bigint  NOT NULL,
  error             text    NOT NULL,
  PRIMARY KEY (execution_id, step, attempt)
);

CREATE TABLE zart.events (
  id           bigserial PRIMARY KEY,
  execution_id text COLLATE "C" NOT NULL,
  name         text    NOT NULL,
  payload      text    NOT NULL,
  created_at   bigint  NOT NULL
);
CREATE INDEX events_execution ON zart.events (execution_id, id);

-- The last registration of each task name (its input schema and options), kept for API-only servers.
CREATE TABLE zart.tasks (
  name              text COLLATE "C" PRIMARY KEY,
  input_schema      text    NULL,
  options           text    NULL,
  worker_id         text    NOT NULL,
  updated_at        bigint  NOT NULL
);

-- Workers heartbeat here; those not seen for two lease periods are gone.
CREATE TABLE zart.workers (
  worker_id    text COLLATE "C" PRIMARY KEY,
  host         text    NOT NULL,
  pid          integer NOT NULL,
  tasks        text    NOT NULL,
  concurrency  integer NOT NULL,
  running      integer NOT NULL,
  lease_ms     bigint  NOT NULL,
  started_at   bigint  NOT NULL,
  last_seen_at bigint  NOT NULL
);

CREATE TABLE zart.schedules (
  schedule_id       text COLLATE "C" PRIMARY KEY,
  task              text    NOT NULL,
  cron              text    NOT NULL,
  timezone          text    NOT NULL,
  data              text    NOT NULL,
  -- skip | allow | buffer_one
  overlap           text    NOT NULL,
  paused            integer NOT NULL DEFAULT 0,
  -- code | api
  source            text    NOT NULL,
  created_at        bigint  NOT NULL,
  updated_at        bigint  NOT NULL,
  -- The last tick an execution was started for, and the tick held back by `buffer_one`.
  last_tick_at      bigint  NULL,
  held_tick_at      bigint  NULL,
  -- The next tick to fire (NULL while paused, or when the expression never fires again), and the
  -- execution the last fired tick started (what `skip` and `buffer_one` wait for).
  next_tick_at      bigint  NULL,
  last_execution_id text    NULL,
  -- +1 per change of the definition or its paused state: a tick computed from an older read is refused.
  revision          integer NOT NULL DEFAULT 0,
  -- For `defineSchedule` schedules: the definition as the code last declared it (JSON).
  declared          text    NULL
);
CREATE INDEX schedules_next_tick ON zart.schedules (next_tick_at) WHERE next_tick_at IS NOT NULL;
CREATE INDEX schedules_held ON zart.schedules (held_tick_at) WHERE held_tick_at IS NOT NULL;

CREATE TABLE zart.status_counts (
  task   text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (task, status)
);

-- Appended to, never updated: see the header. No index: compaction deletes every row it can see.
CREATE TABLE zart.count_deltas (
  task   text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  delta  integer NOT NULL
);

CREATE FUNCTION zart.count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO zart.count_deltas (task, status, delta) SELECT task, status, count(*) FROM new_rows GROUP BY task, status;
  RETURN NULL;
END $$;

CREATE FUNCTION zart.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO zart.count_deltas (task, status, delta) SELECT task, status, -count(*) FROM old_rows GROUP BY task, status;
  RETURN NULL;
END $$;

-- Inserts and deletes are counted per statement; updates by the statements themselves, not by a
-- row-level trigger on UPDATE (docs/decisions/004-counts-by-statement.md).
CREATE TRIGGER executions_count_insert AFTER INSERT ON zart.executions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zart.count_inserted();
CREATE TRIGGER executions_count_delete AFTER DELETE ON zart.executions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zart.count_deleted();

-- Folds the deltas; returns how many it folded (0 when another session holds the lock right now).
CREATE FUNCTION zart.compact_counts(lock_key integer) RETURNS bigint LANGUAGE plpgsql AS $$
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
END $$;

-- The due rows a claim takes: locked with SKIP LOCKED (concurrent claimers take disjoint rows), by
-- priority, then due time. plpgsql keeps its plans for the session; sorts and sequential scans are off so
-- a plan made on a tiny table still walks the indexes, and JIT is off (those switches price any plan high
-- enough to trigger a compilation that costs more than the query).
-- `excluded`: rows a checkpoint in the same statement writes (a claim folded into a checkpoint batch).
-- `declined`: the row's concurrency group is full; the claim parks it until a slot frees. A row with id
-- NULL and `contended` says a group's lock was busy and its row was left for the next claim.
-- Concurrency slots (docs/engine.md, "Concurrency limits"): the count runs after a try-lock on the group
-- (claims never wait), in a statement of its own, so it sees every claim and release committed before.
-- A row parked here is looked at again after the claim commits, as after every release (src/store/postgres/
-- consequences.ts, handOnSlots): whichever commits second sees the other.
CREATE FUNCTION zart.pick_due(now_ms bigint, task_names text[], lim integer, excluded text[] DEFAULT '{}',
  floor_ms bigint DEFAULT NULL, tiered boolean DEFAULT false)
RETURNS TABLE (id text, fresh boolean, due_at bigint, old_status text, declined boolean, contended boolean)
LANGUAGE plpgsql VOLATILE ROWS 10
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off
AS $$
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
END $$;

-- A claimed row's steps and buffered events, read in a snapshot of their own (VOLATILE: each statement
-- of the function takes a fresh one). pick_due locks rows in snapshots taken after the claiming
-- statement's, so a row may be claimed in a state committed after that statement began (an event
-- delivered, its wait recorded completed); its steps must be read from that state, not from the
-- statement's older snapshot. Every writer of a row's steps and events holds the row's lock, which the
-- claim holds by now, so the fresh read is the state the claim took.
CREATE FUNCTION zart.steps_of(execution text) RETURNS SETOF zart.steps
LANGUAGE plpgsql VOLATILE ROWS 10 SET jit = off
AS $$
BEGIN
  RETURN QUERY SELECT * FROM zart.steps st WHERE st.execution_id = execution;
END $$;

CREATE FUNCTION zart.events_of(execution text) RETURNS SETOF zart.events
LANGUAGE plpgsql VOLATILE ROWS 4 SET jit = off
AS $$
BEGIN
  RETURN QUERY SELECT * FROM zart.events ev WHERE ev.execution_id = execution;
END $$;

-- The earliest due time among these tasks' claimable rows (timers, backoffs, leases), or NULL; rows of
-- priority 0 from floor_ms up, as pick_due reads them.
CREATE FUNCTION zart.next_wake(task_names text[], floor_ms bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql STABLE
SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off
AS $$
BEGIN
  RETURN LEAST(
    (SELECT e.runnable_at FROM zart.executions e
      WHERE e.runnable_at >= COALESCE(floor_ms, -9223372036854775807) AND e.priority = 0 AND e.task = ANY (task_names)
      ORDER BY e.runnable_at, e.id LIMIT 1),
    (SELECT min(e.runnable_at) FROM zart.executions e
      WHERE e.runnable_at IS NOT NULL AND e.priority <> 0 AND e.task = ANY (task_names)));
END $$;

-- One list page without a status filter: a merge of the six per-status ranges of the list indexes,
-- each limited to offset + limit rows, planned once per session (a custom plan per call cost more to
-- plan than to run at 1,000,000 rows: docs/decisions/005-list-page-function.md). One branch per shape,
-- so each has a plan of its own.
CREATE FUNCTION zart.list_page(task_name text, lim bigint, off bigint, descending boolean)
RETURNS SETOF zart.executions
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET enable_sort = off SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off
AS $$
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
END $$;
