/**
 * Numbered schema migrations for the SQLite store. A released entry is never edited: a schema change is a
 * new entry with the next number. The PostgreSQL store mirrors these tables under the same numbers.
 *
 * Data model, in short: `executions` holds one row per run; `runnable_at` is the single "when may a worker
 * take this row" column (new work, timers, backoffs and lease expiry alike), so one partial index serves the
 * claim query and stays small because terminal rows and event-only waits keep it NULL. `status_counts` is
 * kept by triggers so counts and list totals never scan `executions`.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const initialSchema = `
CREATE TABLE executions (
  id                TEXT    PRIMARY KEY,
  task              TEXT    NOT NULL,
  status            TEXT    NOT NULL,
  data              TEXT    NOT NULL,
  idempotency_key   TEXT    NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  started_at        INTEGER NULL,
  completed_at      INTEGER NULL,
  output            TEXT    NULL,
  error             TEXT    NULL,
  steps_completed   INTEGER NOT NULL DEFAULT 0,
  current_step      TEXT    NULL,
  waiting_for_event TEXT    NULL,
  attempt           INTEGER NOT NULL DEFAULT 0,
  runnable_at       INTEGER NULL,
  lease_token       INTEGER NOT NULL DEFAULT 0,
  lease_owner       TEXT    NULL
);

CREATE UNIQUE INDEX executions_idempotency_key ON executions (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The claim index. "id" is in the key so "ORDER BY runnable_at, id LIMIT n" reads the index in order and
-- stops after n rows instead of sorting every due row. "task" is in it so the claim's task filter is
-- checked on the index entry, without a table read per due row of tasks this worker does not serve
-- (measured at 1M rows with 50k due rows of other tasks: 10 ms instead of 45 ms).
CREATE INDEX executions_runnable ON executions (runnable_at, id, task) WHERE runnable_at IS NOT NULL;

CREATE INDEX executions_created ON executions (created_at, id);
CREATE INDEX executions_status_created ON executions (status, created_at, id);
CREATE INDEX executions_task_created ON executions (task, created_at, id);
CREATE INDEX executions_task_status_created ON executions (task, status, created_at, id);

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
  PRIMARY KEY (execution_id, name)
);

CREATE TABLE step_attempts (
  execution_id TEXT    NOT NULL,
  step         TEXT    NOT NULL,
  attempt      INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  ended_at     INTEGER NOT NULL,
  error        TEXT    NOT NULL,
  PRIMARY KEY (execution_id, step, attempt)
);

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

CREATE TABLE tasks (
  name         TEXT    PRIMARY KEY,
  input_schema TEXT    NULL,
  worker_id    TEXT    NOT NULL,
  updated_at   INTEGER NOT NULL
);
`;

export const migrations: readonly Migration[] = [{ version: 1, name: "initial-schema", sql: initialSchema }];
