/**
 * The long fuzz run: `runs` fast-check requests against a real `zart-server` (a fresh SQLite file, or a
 * fresh schema of the PostgreSQL database `--database` names; the bundled example tasks, its worker on),
 * generated from the server's own OpenAPI document by test/support/fuzz-requests.ts (the generators and
 * checks `npm test` runs on each store): every operation, unlisted paths and methods, hostile parameters,
 * headers and bodies, and a tenth of raw malformed HTTP. Every answer must be below 500 with no stack
 * trace; afterwards the server must still answer, exit 0 on SIGTERM, and its counts and list totals must
 * equal the rows in the store. Several lanes run at once, each with its own seed.
 *
 *   npm run fuzz -- --runs 100000 [--lanes 4] [--seed N] [--database postgres://…]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { operationsOf, prepareFixtures, rawRequestArb, requestArb, sendAndCheck, sendRawAndCheck } from "../test/support/fuzz-requests.js";
import { adminQuery, storedCountsInSchema } from "../test/support/postgres.js";
import { startServer } from "../test/support/server-process.js";
import { EXECUTION_STATUSES, storedCountsByStatus } from "../test/support/sqlite-file.js";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "100000" },
    lanes: { type: "string", default: "4" },
    seed: { type: "string", default: String(Date.now() % 2 ** 31) },
    database: { type: "string" },
  },
});
const runs = Number(values.runs);
const lanes = Number(values.lanes);
const seed = Number(values.seed);
const postgresUrl = values.database;
if (
  !Number.isInteger(runs) ||
  runs < 1 ||
  !Number.isInteger(lanes) ||
  lanes < 1 ||
  !Number.isInteger(seed) ||
  (postgresUrl !== undefined && !/^postgres(ql)?:\/\//.test(postgresUrl))
) {
  console.error("usage: npm run fuzz -- --runs N [--lanes L] [--seed S] [--database postgres://…]");
  process.exit(2);
}
/** On PostgreSQL: a schema of its own, dropped afterwards. */
const schema = postgresUrl === undefined ? null : `fuzz_${seed}`;
const serverDatabase = () => {
  const url = new URL(postgresUrl as string);
  url.searchParams.set("schema", schema as string);
  return url.toString();
};

const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
const server = await startServer(schema === null ? {} : { args: ["--database", serverDatabase()] });
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.child.kill("SIGKILL");
    process.exit(130);
  });
}
const api = `${server.url}/api/v1`;
const port = Number(new URL(server.url).port);
const fixtures = await prepareFixtures(api);
const operations = operationsOf((await (await fetch(`${api}/openapi.json`)).json()) as Record<string, unknown>);
console.log(
  `fuzz: ${runs} requests in ${lanes} lanes (seed ${seed}), ${operations.length} operations, server ${server.url} on ${schema === null ? "SQLite" : `PostgreSQL schema ${schema}`}, commit ${commit}`,
);

const byStatus: Record<string, number> = {};
let done = 0;
let pick = 0;
const count = (status: number) => {
  byStatus[status] = (byStatus[status] ?? 0) + 1;
  if (++done % 10_000 === 0) console.log(`  ${done} requests`);
};
const mixed = fc.oneof(
  { arbitrary: requestArb(operations).map((g) => ({ kind: "fetch" as const, g })), weight: 9 },
  { arbitrary: rawRequestArb.map((r) => ({ kind: "raw" as const, ...r })), weight: 1 },
);
const started = performance.now();
const outcomes = await Promise.all(
  Array.from({ length: lanes }, (_, lane) =>
    fc.check(
      fc.asyncProperty(mixed, async (request) => {
        const status =
          request.kind === "fetch"
            ? await sendAndCheck(request.g, server.url, fixtures, pick++)
            : await sendRawAndCheck(port, request.method, request.raw);
        count(status);
      }),
      { numRuns: Math.ceil(runs / lanes), seed: seed + lane, endOnFailure: true },
    ),
  ),
);
const seconds = (performance.now() - started) / 1000;
const failures = outcomes.filter((o) => o.failed).map((o) => fc.defaultReportMessage(o));

// Afterwards: the server answers, and its counts and list totals equal the rows (read once nothing moves).
const health = (await fetch(`${server.url}/healthz`)).status;
const rows = (): Promise<number[]> =>
  schema === null ? Promise.resolve(storedCountsByStatus(server.dbPath)) : storedCountsInSchema(schema, postgresUrl);
let consistency: { stored: number[]; stats: number[]; listed: number[] } | null = null;
for (let attempt = 0; attempt < 200 && consistency === null; attempt++) {
  const first = await rows();
  const stats = (await (await fetch(`${api}/stats`)).json()) as Record<string, number>;
  const listed = await Promise.all(
    EXECUTION_STATUSES.map(async (s) => ((await (await fetch(`${api}/executions?status=${s}&limit=1`)).json()) as { total: number }).total),
  );
  if (JSON.stringify(first) === JSON.stringify(await rows()))
    consistency = { stored: first, stats: EXECUTION_STATUSES.map((s) => stats[s] ?? 0), listed };
  else await new Promise((resolve) => setTimeout(resolve, 100));
}
const consistent =
  consistency !== null &&
  JSON.stringify(consistency.stats) === JSON.stringify(consistency.stored) &&
  JSON.stringify(consistency.listed) === JSON.stringify(consistency.stored);
const exitCode = await server.stop();
if (schema !== null) await adminQuery(`DROP SCHEMA ${schema} CASCADE`, [], postgresUrl);

const serverErrors = Object.entries(byStatus).reduce((sum, [status, n]) => sum + (Number(status) >= 500 ? n : 0), 0);
const result = {
  kind: "fuzz",
  date: new Date().toISOString(),
  commit,
  store: schema === null ? "sqlite" : "postgres",
  runs,
  lanes,
  seed,
  requests: done,
  seconds,
  byStatus,
  serverErrors,
  failures,
  healthAfter: health,
  consistency,
  consistent,
  serverExitCode: exitCode,
};
console.log(JSON.stringify(result, null, 2));
const resultsDir = join(ROOT, "bench/results");
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${result.date.replace(/[:.]/g, "-")}-fuzz-${schema === null ? "" : "postgres-"}${runs}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${file}`);
process.exit(failures.length === 0 && serverErrors === 0 && consistent && health === 200 && exitCode === 0 ? 0 : 1);
