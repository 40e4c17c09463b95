/**
 * The hostile requests of support/http-fuzz-suite.ts against a real `zart-server` on PostgreSQL. A client's
 * value reaches the store in more ways there (and PostgreSQL refuses some that SQLite keeps, such as a NUL
 * in text), so every route's store side is fuzzed on it too; fewer runs than on SQLite, which
 * `npm run fuzz` runs 100,000 times.
 */

import { describeHostileRequests } from "./support/http-fuzz-suite.js";
import { markPostgresRan, storedCountsInSchema, TestSchema } from "./support/postgres.js";
import { databaseUrl } from "./support/processes.js";
import { startServer } from "./support/server-process.js";

const schema = new TestSchema("fuzz");

describeHostileRequests("postgres: hostile requests", {
  async start() {
    const server = await startServer({ args: ["--database", databaseUrl(schema.name, 4)] });
    markPostgresRan();
    return server;
  },
  storedCounts: () => storedCountsInSchema(schema.name),
  cleanUp: () => schema.drop(),
  runs: { requests: 300, raw: 50 },
});
