/**
 * Helpers for PostgreSQL tests. The database comes from ZART_TEST_DATABASE_URL (set by `scripts/test.js`,
 * which starts a throwaway server when it is unset); a missing URL is an error, never a silent skip. Each
 * test file works in its own schema (`t_<random>`), dropped afterwards, so files can run in parallel on one
 * server. Each file appends its own path to ZART_PG_MARKER once it has really connected, so the runner
 * (scripts/test.js) can fail a run in which a selected PostgreSQL file did not use PostgreSQL.
 */

import { randomBytes } from "node:crypto";
import { appendFileSync, realpathSync } from "node:fs";
import pg from "pg";
import { EXECUTION_STATUSES } from "../../src/core/types.js";
import { PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/postgres-store.js";

export function testDatabaseUrl(): string {
  const url = process.env.ZART_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "ZART_TEST_DATABASE_URL is not set: run PostgreSQL tests through `npm test` / `node scripts/test.js` " +
        "(which starts a throwaway PostgreSQL) or point it at a database you can create schemas in",
    );
  }
  return url;
}

/** A fresh, unique schema name (lower case, so it needs no quoting in ad-hoc SQL either). */
export function uniqueSchemaName(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** Runs one statement on a short-lived connection of its own (outside any store's pool), by default to the test database. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
  url = testDatabaseUrl(),
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The executions stored in `schema` by status, in EXECUTION_STATUSES order (as sqlite-file.ts reads a file). */
export async function storedCountsInSchema(schema: string, url = testDatabaseUrl()): Promise<number[]> {
  const rows = await adminQuery<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ${schema}.executions GROUP BY status`,
    [],
    url,
  );
  return EXECUTION_STATUSES.map((s) => rows.find((r) => r.status === s)?.n ?? 0);
}

let marked = false;

/**
 * Records (once per process) that this test file really connected to PostgreSQL. node:test runs each
 * file in a process of its own, with the file as `process.argv[1]`.
 */
export function markPostgresRan(): void {
  if (marked) return;
  marked = true;
  const marker = process.env.ZART_PG_MARKER;
  const file = process.argv[1];
  if (!marker) return;
  if (!file) throw new Error("markPostgresRan: no test file in process.argv[1]");
  appendFileSync(marker, `${realpathSync(file)}\n`);
}

export function openTestStore(schema: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  return PostgresStore.connect({ url: testDatabaseUrl(), schema, poolSize: 4, ...options });
}

/** A schema for one test file: created on first use by `migrate()`, dropped by `drop()`. */
export class TestSchema {
  readonly name: string;

  constructor(prefix = "t") {
    this.name = uniqueSchemaName(prefix);
  }

  /** Opens a store on this schema and migrates it; marks the run as having used PostgreSQL. */
  async open(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
    const store = await openTestStore(this.name, options);
    await store.migrate();
    markPostgresRan();
    return store;
  }

  /** Empties every table (keeps the schema and its migrations), as between behaviour-suite tests. */
  async truncate(): Promise<void> {
    const exists = await adminQuery<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${this.name}.executions`]);
    if (!exists[0]?.present) return;
    await adminQuery(
      `TRUNCATE ${["executions", "steps", "step_attempts", "events", "tasks", "workers", "schedules", "status_counts", "count_deltas"]
        .map((table) => `${this.name}.${table}`)
        .join(", ")}`,
    );
  }

  /** `task/status: counted N, stored M` for every pair where status_counts + count_deltas disagree with the rows. */
  async countMismatches(): Promise<string[]> {
    const exists = await adminQuery<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${this.name}.executions`]);
    if (!exists[0]?.present) return [];
    const rows = await adminQuery<{ task: string; status: string; counted: string | null; stored: string | null }>(
      `SELECT task, status, counted, stored FROM
         (SELECT task, status, SUM(n) AS counted FROM (
            SELECT task, status, n FROM ${this.name}.status_counts
            UNION ALL SELECT task, status, delta FROM ${this.name}.count_deltas) c
          GROUP BY task, status HAVING SUM(n) <> 0) counted
       FULL JOIN (SELECT task, status, count(*) AS stored FROM ${this.name}.executions GROUP BY task, status) stored
       USING (task, status)
       WHERE counted IS DISTINCT FROM stored
       ORDER BY task, status`,
    );
    return rows.map((r) => `${r.task}/${r.status}: counted ${r.counted ?? 0}, stored ${r.stored ?? 0}`);
  }

  /** `table: n` for each table holding rows of these executions (every table keyed by an execution id). */
  async leftovers(ids: readonly string[]): Promise<string[]> {
    const rows = await adminQuery<{ name: string; n: number }>(
      `SELECT name, n FROM (
         SELECT 'executions' AS name, count(*)::integer AS n FROM ${this.name}.executions WHERE id = ANY ($1)
         UNION ALL SELECT 'steps', count(*)::integer FROM ${this.name}.steps WHERE execution_id = ANY ($1)
         UNION ALL SELECT 'step_attempts', count(*)::integer FROM ${this.name}.step_attempts WHERE execution_id = ANY ($1)
         UNION ALL SELECT 'events', count(*)::integer FROM ${this.name}.events WHERE execution_id = ANY ($1)) t
       WHERE n > 0 ORDER BY name`,
      [ids],
    );
    return rows.map((r) => `${r.name}: ${r.n}`);
  }

  async drop(): Promise<void> {
    await adminQuery(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`);
  }

  /** Terminates this schema's connections of one kind: the pools (`zart:`) or the listeners (`zart-listen:`). */
  async terminate(kind: "pool" | "listener"): Promise<number> {
    const name = `${kind === "pool" ? "zart" : "zart-listen"}:${this.name}`;
    const rows = await adminQuery<{ pid: number }>(
      // MATERIALIZED: the filter must run before pg_terminate_backend, or the planner may kill every backend.
      `WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid())
       SELECT pid FROM victims WHERE pg_terminate_backend(pid)`,
      [name],
    );
    return rows.length;
  }
}

/**
 * Until a statement whose text names `schema` waits for a lock (a race forced at its exact point: the
 * test's own transaction holds what the statement needs). Fails if `unless` settles first: the statement
 * did not wait.
 */
export async function untilLockWaited(schema: string, unless?: Promise<unknown>): Promise<void> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  unless?.then(mark, mark);
  for (;;) {
    if (settled) throw new Error(`it did not wait for the lock: ${JSON.stringify(await unless)}`);
    const rows = await adminQuery<{ n: number }>(
      "SELECT count(*)::integer AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0",
      [schema],
    );
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
