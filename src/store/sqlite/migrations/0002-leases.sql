-- Zart on SQLite, migration 2: leases.
--
-- A lease names a job that one process at a time may run on this file (several processes may share it):
-- the prune round of retention (docs/retention.md). The holder renews `expires_at` (the engine's clock,
-- epoch ms) as it goes; a holder that dies stops renewing, and once `expires_at` has passed another
-- process may take the lease over. PostgreSQL keeps the same exclusion with an advisory lock instead.

CREATE TABLE leases (
  name       TEXT    PRIMARY KEY,
  holder     TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
);
