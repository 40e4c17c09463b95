/**
 * The hostile requests of support/http-fuzz-suite.ts against a real `zart-server` on PostgreSQL. A client's
 * value reaches the store in more ways there (and PostgreSQL refuses some that SQLite keeps, such as a NUL
 * in text), so every route's store side is fuzzed on it too; fewer runs than on SQLite, which
 * `npm run fuzz` runs 100,000 times.
 */

import { describeHostileRequests } from "./support/http-fuzz-suite.js";
import { adminQuery, markPostgresRan, TestSchema } from "./support/postgres.js";
import { databaseUrl } from "./support/processes.js";
import { startServer } from "./support/server-process.js";
import { EXECUTION_STATUSES } from "./support/sqlite-file.js";

const schema = new TestSchema("fuzz");

describeHostileRequests("postgres: hostile requests", {
  async start() {
    const server = await startServer({ args: ["--database", databaseUrl(schema.name, 4)] });
    markPostgresRan();
    return server;
  },
  async storedCounts() {
    const rows = await adminQuery<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM ${schema.name}.executions GROUP BY status`,
    );
    return EXECUTION_STATUSES.map((s) => rows.find((r) => r.status === s)?.n ?? 0);
  },
  cleanUp: () => schema.drop(),
  runs: { requests: 300, raw: 50 },
});
