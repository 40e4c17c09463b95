/**
 * Overload figures against a real `zart-server` (see load/overload-phases.ts): N concurrent long-polls and
 * the server's RSS, a burst of N POSTs on SQLite and on PostgreSQL (statuses, peak RSS, rows stored), and
 * back-pressure on PostgreSQL with inserts blocked (503 overloaded + Retry-After beyond the bound). Prints
 * the figures and writes them as JSON to bench/results/. The server runs as deployed, compiled (the script
 * builds dist/ first), so its RSS is not the tsx loader's; `--source` runs the sources through tsx instead.
 * `--posts 0 --pressure-posts 0` runs the long-poll phase alone. `--heap-snapshots` also writes a heap
 * snapshot of that server before the polls and with them open, for scripts/load/heap-diff.ts to list what
 * each poll holds; writing a snapshot grows the process, so such a run's RSS figures are not comparable.
 *
 *   npm run overload -- [--long-polls 10000] [--posts 100000] [--concurrency 200]
 *                       [--bound 1000] [--pressure-posts 5000] [--database-url postgres://…] [--source]
 *                       [--heap-snapshots]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ServerProcess, startServer } from "../test/support/server-process.js";
import { ensureDatabase } from "./load/ensure-database.js";
import { backPressure, burst, type HeapSnapshotter, longPolls, seedExecutions } from "./load/overload-phases.js";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    "long-polls": { type: "string", default: "10000" },
    posts: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "200" },
    bound: { type: "string", default: "1000" },
    "pressure-posts": { type: "string", default: "5000" },
    "database-url": { type: "string", default: process.env.ZART_SOAK_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/zsoak" },
    source: { type: "boolean", default: false },
    "heap-snapshots": { type: "boolean", default: false },
  },
});
const compiled = !values.source;
if (compiled) execFileSync(process.execPath, [join(ROOT, "scripts/build.js")], { cwd: ROOT, stdio: "inherit" });
const count = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
  return n;
};
const pollCount = count("long-polls");
const posts = count("posts");
const concurrency = count("concurrency");
const bound = count("bound");
const pressurePosts = count("pressure-posts");
const databaseUrl = values["database-url"]!;
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
const dir = mkdtempSync(join(tmpdir(), "zart-overload-"));
const TASKS = ["--tasks", join(ROOT, "scripts/load/soak-tasks.ts")];

function pgUrl(schema: string): string {
  return `${databaseUrl}${databaseUrl.includes("?") ? "&" : "?"}schema=${schema}`;
}

let running: ServerProcess | null = null;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    running?.child.kill("SIGKILL");
    process.exit(130);
  });
}

/** Starts an API-only server (with the task module unless `tasks` is false), runs `work` against it, stops it
 * (its exit code must be 0). */
async function withServer<T>(
  args: string[],
  work: (server: ServerProcess) => Promise<T>,
  { env = {}, dir, tasks = true }: { env?: Record<string, string>; dir?: string; tasks?: boolean } = {},
): Promise<T> {
  const server = await startServer({ args: ["--no-worker", ...(tasks ? TASKS : []), ...args], compiled, env, dir });
  running = server;
  let result: T;
  try {
    result = await work(server);
  } catch (error) {
    server.child.kill("SIGKILL");
    throw error;
  }
  const code = await server.stop();
  running = null;
  if (code !== 0) throw new Error(`zart-server exited with ${code}`);
  return result;
}

/** Node's own `--heapsnapshot-signal`; the server answers HTTP again once the file is written. */
function heapSnapshotter(server: ServerProcess, dir: string): HeapSnapshotter {
  return async (moment) => {
    const before = new Set(readdirSync(dir));
    server.child.kill("SIGUSR2");
    const newFile = () => readdirSync(dir).find((name) => !before.has(name));
    while (newFile() === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    const written = newFile() as string;
    await fetch(`${server.url}/healthz`);
    renameSync(join(dir, written), join(dir, `${moment}.heapsnapshot`));
  };
}

if (posts > 0 || pressurePosts > 0) await ensureDatabase(databaseUrl);
const results: Record<string, unknown> = {
  kind: "overload",
  date: new Date().toISOString(),
  commit,
  server: compiled ? "compiled (dist/)" : "sources through tsx",
};
try {
  if (pollCount > 0) {
    console.log(`long-polls: ${pollCount} on SQLite`);
    const snapshots = values["heap-snapshots"] ? mkdtempSync(join(tmpdir(), "zart-overload-heap-")) : null;
    const env: Record<string, string> = snapshots
      ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}`.trim() }
      : {};
    const file = join(dir, "polls");
    mkdirSync(file);
    const ids = await withServer([], (server) => seedExecutions(server, pollCount), { dir: file });
    results.longPolls = await withServer(
      [],
      (server) => longPolls(server, ids, snapshots ? heapSnapshotter(server, snapshots) : undefined),
      { env, dir: file, tasks: false },
    );
    console.log(`  ${JSON.stringify(results.longPolls)}`);
    if (snapshots) {
      results.heapSnapshots = snapshots;
      const [before, open] = ["baseline", "with-polls"].map((moment) => join(snapshots, `${moment}.heapsnapshot`));
      console.log(`  heap snapshots in ${snapshots}; what each poll holds:`);
      console.log(`  node --import tsx scripts/load/heap-diff.ts ${before} ${open} ${pollCount}`);
    }
  }
  if (posts > 0) {
    console.log(`burst: ${posts} POSTs, ${concurrency} at a time, on SQLite`);
    results.burstSqlite = await withServer([], (server) => burst(server, posts, concurrency));
    console.log(`  ${JSON.stringify(results.burstSqlite)}`);
    console.log(`burst: ${posts} POSTs, ${concurrency} at a time, on PostgreSQL`);
    const schema = `overload_${stamp.slice(0, 19).replace(/-/g, "").toLowerCase()}_burst`;
    results.burstPostgres = await withServer(["--database", pgUrl(schema)], (server) => burst(server, posts, concurrency));
    console.log(`  ${JSON.stringify(results.burstPostgres)}`);
  }
  if (pressurePosts > 0) {
    console.log(`back-pressure: ${pressurePosts} POSTs at once, inserts blocked, bound ${bound}, on PostgreSQL`);
    const schema = `overload_${stamp.slice(0, 19).replace(/-/g, "").toLowerCase()}_pressure`;
    const config = join(dir, "bound.json");
    writeFileSync(config, JSON.stringify({ limits: { queuedInserts: bound } }));
    results.backPressure = await withServer(["--database", pgUrl(schema), "--config", config], (server) =>
      backPressure(server, databaseUrl, `${schema}.executions`, bound, pressurePosts),
    );
    console.log(`  ${JSON.stringify(results.backPressure)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const resultsDir = join(ROOT, "bench/results");
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${stamp}-overload.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${file}`);
