/**
 * Migration 1: tables, indexes and the status-count deltas. Never edit once released.
 *
 * Text keys use COLLATE "C": byte order is what the SQLite store and JavaScript sort by, so `(created_at, id)`
 * pages agree across stores, and C comparisons are cheaper than a locale's in every B-tree probe.
 */
import type { MigrationContext } from "../migrations.js";

export function executionsSchema({ s }: MigrationContext): string {
  return `
CREATE TABLE ${s}.executions (
  id                text COLLATE "C" PRIMARY KEY,
  task              text COLLATE "C" NOT NULL,
  status            text COLLATE "C" NOT NULL,
  data              text   NOT NULL,
  idempotency_key   text   NULL,
  created_at        bigint NOT NULL,
  updated_at        bigint NOT NULL,
  started_at        bigint NULL,
  completed_at      bigint NULL,
  output            text   NULL,
  error             text   NULL,
  steps_completed   integer NOT NULL DEFAULT 0,
  current_step      text   NULL,
  waiting_for_event text   NULL,
  attempt           integer NOT NULL DEFAULT 0,
  runnable_at       bigint NULL,
  lease_token       bigint NOT NULL DEFAULT 0,
  lease_owner       text   NULL
);

CREATE UNIQUE INDEX executions_idempotency_key ON ${s}.executions (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The claim index: new work, due timers, ended backoffs and expired leases all have runnable_at <= now;
-- terminal rows and event-only waits are NULL, so the index holds only live work however large the table.
-- "id" is in the key so ORDER BY runnable_at, id LIMIT n reads n entries in order instead of sorting.
CREATE INDEX executions_runnable ON ${s}.executions (runnable_at, id) WHERE runnable_at IS NOT NULL;

-- One index per list shape (no filter, status, task, task + status), each ending in the page order.
CREATE INDEX executions_created ON ${s}.executions (created_at, id);
CREATE INDEX executions_status_created ON ${s}.executions (status, created_at, id);
CREATE INDEX executions_task_created ON ${s}.executions (task, created_at, id);
CREATE INDEX executions_task_status_created ON ${s}.executions (task, status, created_at, id);

CREATE TABLE ${s}.steps (
  execution_id text COLLATE "C" NOT NULL,
  name         text COLLATE "C" NOT NULL,
  kind         text    NOT NULL,
  state        text    NOT NULL,
  result       text    NULL,
  error        text    NULL,
  attempts     integer NOT NULL DEFAULT 0,
  wake_at      bigint  NULL,
  schema       text    NULL,
  started_at   bigint  NOT NULL,
  completed_at bigint  NULL,
  PRIMARY KEY (execution_id, name)
);

CREATE TABLE ${s}.step_attempts (
  execution_id text COLLATE "C" NOT NULL,
  step         text COLLATE "C" NOT NULL,
  attempt      integer NOT NULL,
  started_at   bigint  NOT NULL,
  ended_at     bigint  NOT NULL,
  error        text    NOT NULL,
  PRIMARY KEY (execution_id, step, attempt)
);

CREATE TABLE ${s}.tasks (
  name         text COLLATE "C" PRIMARY KEY,
  input_schema text   NULL,
  worker_id    text   NOT NULL,
  updated_at   bigint NOT NULL
);

-- Folded counts, one row per (task, status); written only by compact_counts().
CREATE TABLE ${s}.status_counts (
  task   text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (task, status)
);

-- Insert-only deltas (see migrations.ts for why). No index: compaction deletes every row it can see.
CREATE TABLE ${s}.count_deltas (
  task   text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  delta  integer NOT NULL
);

CREATE FUNCTION ${s}.record_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (NEW.task, NEW.status, 1);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (OLD.task, OLD.status, -1), (NEW.task, NEW.status, 1);
  ELSE
    INSERT INTO ${s}.count_deltas (task, status, delta) VALUES (OLD.task, OLD.status, -1);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER executions_count_insert_delete AFTER INSERT OR DELETE ON ${s}.executions
  FOR EACH ROW EXECUTE FUNCTION ${s}.record_count_delta();
-- The WHEN clause keeps progress checkpoints and lease renewals (no status change) trigger-free.
CREATE TRIGGER executions_count_update AFTER UPDATE ON ${s}.executions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.task IS DISTINCT FROM NEW.task)
  EXECUTE FUNCTION ${s}.record_count_delta();

-- Returns how many delta rows it folded (0 when another session holds the compaction lock).
CREATE FUNCTION ${s}.compact_counts(lock_key integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE folded bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(1515870810, lock_key) THEN
    RETURN 0;
  END IF;
  WITH gone AS (DELETE FROM ${s}.count_deltas RETURNING task, status, delta),
  summed AS (SELECT task, status, SUM(delta)::bigint AS n, COUNT(*) AS c FROM gone GROUP BY task, status),
  upserted AS (
    INSERT INTO ${s}.status_counts AS sc (task, status, n) SELECT task, status, n FROM summed
    ON CONFLICT (task, status) DO UPDATE SET n = sc.n + excluded.n
  )
  SELECT COALESCE(SUM(c), 0) INTO folded FROM summed;
  RETURN folded;
END $$;
`;
}
