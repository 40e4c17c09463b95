/**
 * The chaos run: on a private PostgreSQL, API servers and workers as separate processes under a steady
 * mixed load, while workers are SIGKILLed mid-step, API servers SIGKILLed, PostgreSQL restarted, every
 * Zart connection terminated, the connections black-holed, a worker turned into a zombie and poison
 * executions crash their workers; then the invariants are checked from the database, the step bodies'
 * side-effect log and the API (scripts/chaos/invariants.ts). Prints a summary, writes JSON to
 * bench/results/ and exits 1 when an invariant failed.
 *
 *   npm run chaos                 # the full run (about 12 minutes here)
 *   npm run chaos -- --short      # every scenario once, small (what test/pg-chaos.test.ts runs)
 *   npm run chaos -- --minutes 20 --rate 10 --worker-kills 200
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { type ChaosConfig, FULL, SHORT } from "./chaos/config.js";
import { summary, writeResult } from "./chaos/report.js";
import { runChaos } from "./chaos/run-chaos.js";

const ROOT = new URL("..", import.meta.url).pathname;

const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError("must be a positive number");
  return n;
};
const count = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number, 0 or more");
  return n;
};

const program = new Command("chaos")
  .description("fault injection under load on PostgreSQL, with the invariants checked at the end")
  .option("--short", "every scenario once, at a small scale")
  .option("--minutes <n>", "spread the faults over this many minutes", positive)
  .option("--rate <n>", "new executions per second", positive)
  .option("--worker-kills <n>", "SIGKILLs of workers mid-step", count)
  .option("--api-kills <n>", "SIGKILLs of API servers", count)
  .option("--pg-restarts <n>", "PostgreSQL restarts (fast shutdown)", count)
  .option("--terminate-rounds <n>", "rounds of pg_terminate_backend on every Zart connection", count)
  .option("--black-hole-seconds <n>", "how long the connections are black-holed", positive)
  .option("--poisons <n>", "poison executions", count)
  .parse();
const options = program.opts<{
  short?: boolean;
  minutes?: number;
  rate?: number;
  workerKills?: number;
  apiKills?: number;
  pgRestarts?: number;
  terminateRounds?: number;
  blackHoleSeconds?: number;
  poisons?: number;
}>();

const { short, ...overrides } = options;
const config: ChaosConfig = { ...(short ? SHORT : FULL), ...overrides };
const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
const commit = git("rev-parse", "--short", "HEAD");
const dirty = git("status", "--porcelain").length > 0;
console.log(`chaos: ${JSON.stringify(config)}; commit ${commit}${dirty ? " with uncommitted changes" : ""}`);

const result = await runChaos(config, (line) => console.log(`  ${line}`));
console.log(`\n${summary(result)}`);
const file = writeResult(join(ROOT, "bench/results"), result, { commit, uncommittedChanges: dirty }, short ? "chaos-short" : "chaos");
console.log(`wrote ${file}`);
process.exit(result.ok ? 0 : 1);
