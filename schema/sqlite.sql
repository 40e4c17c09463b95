-- SQLite schema built by the migrations, normalised (objects sorted by name; no ledger rows).
-- Generated: do not edit. Regenerate with `npm run schema:dump`; `npm test` fails when it differs.

-- index events_execution
CREATE INDEX events_execution ON events (execution_id, id);

-- index executions_created
CREATE INDEX executions_created ON executions (created_at, id);

-- index executions_due
CREATE INDEX executions_due ON executions (runnable_at, id, task) WHERE runnable_at IS NOT NULL AND priority = 0;

-- index executions_due_priority
CREATE INDEX executions_due_priority ON executions (priority DESC, runnable_at, id, task)
  WHERE runnable_at IS NOT NULL AND priority <> 0;

-- index executions_group_running
CREATE INDEX executions_group_running ON executions (task, concurrency_key)
  WHERE status = 'running' AND concurrency_limit IS NOT NULL;

-- index executions_idempotency_key
CREATE UNIQUE INDEX executions_idempotency_key ON executions (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- index executions_parent
CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;

-- index executions_schedule
CREATE INDEX executions_schedule ON executions (schedule_id, created_at) WHERE schedule_id IS NOT NULL;

-- index executions_slot_wait
CREATE INDEX executions_slot_wait ON executions (task, concurrency_key, priority DESC, created_at, id)
  WHERE status = 'pending' AND runnable_at IS NULL;

-- index executions_status_created
CREATE INDEX executions_status_created ON executions (status, created_at, id);

-- index executions_task_created
CREATE INDEX executions_task_created ON executions (task, created_at, id);

-- index executions_task_status_created
CREATE INDEX executions_task_status_created ON executions (task, status, created_at, id);

-- index schedules_held
CREATE INDEX schedules_held ON schedules (held_tick_at) WHERE held_tick_at IS NOT NULL;

-- index schedules_next_tick
CREATE INDEX schedules_next_tick ON schedules (next_tick_at) WHERE next_tick_at IS NOT NULL;

-- table events
CREATE TABLE events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  execution_id TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  created_at   INTEGER NOT NULL
);

-- table executions
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

-- table leases
CREATE TABLE leases (
  name       TEXT    PRIMARY KEY,
  holder     TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
);

-- table schedules
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

-- table status_counts
CREATE TABLE status_counts (
  task   TEXT    NOT NULL,
  status TEXT    NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (task, status)
);

-- table step_attempts
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

-- table steps
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

-- table tasks
CREATE TABLE tasks (
  name         TEXT    PRIMARY KEY,
  input_schema TEXT    NULL,
  options      TEXT    NULL,
  worker_id    TEXT    NOT NULL,
  updated_at   INTEGER NOT NULL
);

-- table workers
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

-- table zart_migrations
CREATE TABLE zart_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- trigger executions_count_delete
CREATE TRIGGER executions_count_delete AFTER DELETE ON executions
BEGIN
  UPDATE status_counts SET n = n - 1 WHERE task = OLD.task AND status = OLD.status;
END;

-- trigger executions_count_insert
CREATE TRIGGER executions_count_insert AFTER INSERT ON executions
BEGIN
  INSERT INTO status_counts (task, status, n) VALUES (NEW.task, NEW.status, 1)
    ON CONFLICT (task, status) DO UPDATE SET n = n + 1;
END;

-- trigger executions_count_update
CREATE TRIGGER executions_count_update AFTER UPDATE OF status, task ON executions
WHEN OLD.status IS NOT NEW.status OR OLD.task IS NOT NEW.task
BEGIN
  UPDATE status_counts SET n = n - 1 WHERE task = OLD.task AND status = OLD.status;
  INSERT INTO status_counts (task, status, n) VALUES (NEW.task, NEW.status, 1)
    ON CONFLICT (task, status) DO UPDATE SET n = n + 1;
END;
