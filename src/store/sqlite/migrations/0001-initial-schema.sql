-- Zart on SQLite, migration 1: the initial schema.
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
-- `schedules` are cron schedules. `status_counts` is kept by triggers, so counts and list totals never
-- scan `executions` (one writer at a time, so in-place counters cannot contend).
--
-- The columns and their meaning are the PostgreSQL store's (src/store/postgres/migrations/); the two
-- stores number their migrations separately.

CREATE TABLE executions (
  id                 TEXT    PRIMARY KEY,
  task               TEXT    NOT NULL,
  status             TEXT    NOT NULL,
  data               TEXT    NOT NULL,
  idempotency_key    TEXT    NULL,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  started_at         INTEGER NULL,
  completed_at       INTEGER NULL,
  output             TEXT    NULL,
  error              TEXT    NULL,
  steps_completed    INTEGER NOT NULL DEFAULT 0,
  current_step       TEXT    NULL,
  waiting_for_event  TEXT    NULL,
  attempt            INTEGER NOT NULL DEFAULT 0,
  runnable_at        INTEGER NULL,
  lease_token        INTEGER NOT NULL DEFAULT 0,
  lease_owner        TEXT    NULL,
  timeout_from       INTEGER NULL,
  crashes            INTEGER NOT NULL DEFAULT 0,
  wake_requested     INTEGER NOT NULL DEFAULT 0,
  parent_id          TEXT    NULL,
  parent_step        TEXT    NULL,
  cancel_with_parent INTEGER NOT NULL DEFAULT 1,
  rerun_of           TEXT    NULL,
  schedule_id        TEXT    NULL,
  priority           INTEGER NOT NULL DEFAULT 0,
  concurrency_key    TEXT    NULL,
  concurrency_limit  INTEGER NULL,
  start_at           INTEGER NULL,
  traceparent        TEXT    NULL,
  buffered_events    INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX executions_idempotency_key ON executions (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The claim indexes. "id" is in the key so "ORDER BY runnable_at, id LIMIT n" reads the index in order
-- and stops after n rows; "task" so the task filter is checked on the index entry, without a table read
-- per due row of tasks this worker does not serve. Rows of another priority than 0 have their own small
-- index, read before (priority > 0) and after (priority < 0) the first.
CREATE INDEX executions_due ON executions (runnable_at, id, task) WHERE runnable_at IS NOT NULL AND priority = 0;
CREATE INDEX executions_due_priority ON executions (priority DESC, runnable_at, id, task)
  WHERE runnable_at IS NOT NULL AND priority <> 0;
CREATE INDEX executions_group_running ON executions (task, concurrency_key)
  WHERE status = 'running' AND concurrency_limit IS NOT NULL;
CREATE INDEX executions_slot_wait ON executions (task, concurrency_key, priority DESC, created_at, id)
  WHERE status = 'pending' AND runnable_at IS NULL;

CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_status_created ON executions (status, created_at, id);
CREATE INDEX executions_task_created ON executions (task, created_at, id);
CREATE INDEX executions_task_status_created ON executions (task, status, created_at, id);
CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX executions_schedule ON executions (schedule_id, created_at) WHERE schedule_id IS NOT NULL;

CREATE TABLE steps (
  execution_id TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  state        TEXT    NOT NULL,
  result       TEXT    NULL,
  error        TEXT    NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  wake_at      INTEGER NULL,
  schema       TEXT    NULL,
  started_at   INTEGER NOT NULL,
  completed_at INTEGER NULL,
  seq          INTEGER NOT NULL DEFAULT 0,
  child_id     TEXT    NULL,
  copied_from  TEXT    NULL,
  settled_in   INTEGER NULL,
  execution_attempt  INTEGER NULL,
  attempt_started_at INTEGER NULL,
  PRIMARY KEY (execution_id, name)
);

CREATE TABLE step_attempts (
  execution_id      TEXT    NOT NULL,
  step              TEXT    NOT NULL,
  attempt           INTEGER NOT NULL,
  execution_attempt INTEGER NOT NULL,
  started_at        INTEGER NOT NULL,
  ended_at          INTEGER NOT NULL,
  error             TEXT    NOT NULL,
  PRIMARY KEY (execution_id, step, attempt)
);

CREATE TABLE events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  execution_id TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  created_at   INTEGER NOT NULL
);
CREATE INDEX events_execution ON events (execution_id, id);

CREATE TABLE tasks (
  name         TEXT    PRIMARY KEY,
  input_schema TEXT    NULL,
  options      TEXT    NULL,
  worker_id    TEXT    NOT NULL,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE workers (
  worker_id    TEXT    PRIMARY KEY,
  host         TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  tasks        TEXT    NOT NULL,
  concurrency  INTEGER NOT NULL,
  running      INTEGER NOT NULL,
  lease_ms     INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);

CREATE TABLE schedules (
  schedule_id       TEXT    PRIMARY KEY,
  task              TEXT    NOT NULL,
  cron              TEXT    NOT NULL,
  timezone          TEXT    NOT NULL,
  data              TEXT    NOT NULL,
  overlap           TEXT    NOT NULL,
  paused            INTEGER NOT NULL DEFAULT 0,
  source            TEXT    NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  last_tick_at      INTEGER NULL,
  held_tick_at      INTEGER NULL,
  next_tick_at      INTEGER NULL,
  last_execution_id TEXT    NULL,
  revision          INTEGER NOT NULL DEFAULT 0,
  declared          TEXT    NULL
);
CREATE INDEX schedules_next_tick ON schedules (next_tick_at) WHERE next_tick_at IS NOT NULL;
CREATE INDEX schedules_held ON schedules (held_tick_at) WHERE held_tick_at IS NOT NULL;

CREATE TABLE status_counts (
  task   TEXT    NOT NULL,
  status TEXT    NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (task, status)
);

CREATE TRIGGER executions_count_insert AFTER INSERT ON executions
BEGIN
  INSERT INTO status_counts (task, status, n) VALUES (NEW.task, NEW.status, 1)
    ON CONFLICT (task, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER executions_count_update AFTER UPDATE OF status, task ON executions
WHEN OLD.status IS NOT NEW.status OR OLD.task IS NOT NEW.task
BEGIN
  UPDATE status_counts SET n = n - 1 WHERE task = OLD.task AND status = OLD.status;
  INSERT INTO status_counts (task, status, n) VALUES (NEW.task, NEW.status, 1)
    ON CONFLICT (task, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER executions_count_delete AFTER DELETE ON executions
BEGIN
  UPDATE status_counts SET n = n - 1 WHERE task = OLD.task AND status = OLD.status;
END;
