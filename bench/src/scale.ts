/**
 * Scale figures for Zart: claim, status and list latency with few and with many stored executions,
 * and worker memory with many sleeping executions. Rows are bulk-inserted straight into the store's
 * tables with SQL (generate_series on Postgres, a recursive CTE on SQLite): building 1,000,000 rows
 * through the API would take longer than the rest of the suite. The schema is the one in
 * src/store/{postgres,sqlite}/migrations/0001-initial-schema.sql; if it changes, these INSERTs must follow.
 *
 * Everything here runs inside a child process (see child-main.ts).
 */
import Database from "better-sqlite3";
import pg from "pg";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import type { Store } from "../../dist/store/store.js";
import { summariseLatency } from "./stats.js";
import type { Target } from "./systems/types.js";
import { sleep, waitUntil } from "./util.js";
import { benchTasks } from "./zart-tasks.js";

const SCHEMA = "zart";
/** Created-at of the oldest bulk row; rows are 1 ms apart, all in the past. */
const BASE_MS = Date.UTC(2026, 0, 1);

export interface FillSpec {
  /** Completed rows of bench-w0 (the history a long-lived installation accumulates). */
  completed: number;
  /** Pending rows of `pendingTask`, due now (what the claims take). */
  pending: number;
  pendingTask: string;
}

function completedId(k: number): string {
  return `exec-c${String(k).padStart(12, "0")}`;
}

async function fillPostgres(url: string, spec: FillSpec): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Triggers off for the fill (counts and NOTIFY per row would dominate); the counts are written below.
    await client.query("set session_replication_role = replica");
    const chunk = 100_000;
    for (let from = 1; from <= spec.completed; from += chunk) {
      const to = Math.min(spec.completed, from + chunk - 1);
      await client.query(
        `insert into ${SCHEMA}.executions
           (id, task, status, data, created_at, updated_at, started_at, completed_at, output, steps_completed, attempt, runnable_at, lease_token)
         select 'exec-c' || lpad(g::text, 12, '0'), 'bench-w0', 'completed', '{"i":' || g || '}',
                $3 + g, $3 + g, $3 + g, $3 + g, g::text, 0, 1, null, 1
           from generate_series($1::bigint, $2::bigint) g`,
        [from, to, BASE_MS],
      );
    }
    const now = Date.now();
    await client.query(
      `insert into ${SCHEMA}.executions (id, task, status, data, created_at, updated_at, runnable_at)
       select 'exec-p' || lpad(g::text, 12, '0'), $2, 'pending', '{"i":' || (g - 1) || '}', $3 + g, $3 + g, $3 + g
         from generate_series(1, $1::bigint) g`,
      [spec.pending, spec.pendingTask, now - spec.pending - 10],
    );
    await client.query("set session_replication_role = origin");
    await client.query(
      `insert into ${SCHEMA}.status_counts as sc (task, status, n) values ('bench-w0', 'completed', $1), ($2, 'pending', $3)
       on conflict (task, status) do update set n = sc.n + excluded.n`,
      [spec.completed, spec.pendingTask, spec.pending],
    );
    // A real table this size would have been visited by autovacuum; do it now so plans and visibility are settled.
    await client.query(`vacuum analyze ${SCHEMA}.executions`);
  } finally {
    await client.end();
  }
}

function fillSqlite(path: string, spec: FillSpec): void {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    const insertCompleted = db.prepare(
      `with recursive g(x) as (select ? union all select x + 1 from g where x < ?)
       insert into executions
         (id, task, status, data, created_at, updated_at, started_at, completed_at, output, steps_completed, attempt, runnable_at, lease_token)
       select printf('exec-c%012d', x), 'bench-w0', 'completed', '{"i":' || x || '}', ? + x, ? + x, ? + x, ? + x, cast(x as text), 0, 1, null, 1
         from g`,
    );
    const chunk = 100_000;
    for (let from = 1; from <= spec.completed; from += chunk) {
      const to = Math.min(spec.completed, from + chunk - 1);
      db.transaction(() => insertCompleted.run(from, to, BASE_MS, BASE_MS, BASE_MS, BASE_MS))();
    }
    const start = Date.now() - spec.pending - 10;
    if (spec.pending > 0) {
      db.prepare(
        `with recursive g(x) as (select 1 union all select x + 1 from g where x < ?)
         insert into executions (id, task, status, data, created_at, updated_at, runnable_at)
         select printf('exec-p%012d', x), ?, 'pending', '{"i":' || (x - 1) || '}', ? + x, ? + x, ? + x from g`,
      ).run(spec.pending, spec.pendingTask, start, start, start);
    }
    db.exec("analyze");
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

export async function fill(target: Target, spec: FillSpec): Promise<void> {
  if (target.kind === "postgres") await fillPostgres(target.url, spec);
  else fillSqlite(target.path, spec);
}

function openTarget(target: Target): Promise<Store> {
  return openStore(target.kind === "postgres" ? target.url : target.path, { schema: SCHEMA });
}

async function timeIt(samples: number, warmup: number, op: (k: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < samples + warmup; k++) {
    const started = performance.now();
    await op(k);
    if (k >= warmup) out.push(performance.now() - started);
  }
  return out;
}

export interface ScaleMeasurement {
  operation: string;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Fills `stored` rows (all but `samples + warmup` of them completed), then times store calls one at a time:
 * status (getExecution of a random row), list (first page, no filter and status=completed, each with its
 * total), and claim (one due row per call, as a worker with a free slot does).
 */
export async function measureScale(target: Target, stored: number, samples: number): Promise<ScaleMeasurement[]> {
  const warmup = 20;
  const pending = samples + warmup;
  await fill(target, { completed: Math.max(0, stored - pending), pending, pendingTask: "bench-w0" });
  const store = await openTarget(target);
  const completed = Math.max(1, stored - pending);
  // The figure is only worth something if the rows are really there (and the counts agree with them).
  const counts = await store.countByStatus();
  if (counts.completed + counts.pending !== stored) {
    await store.close();
    throw new Error(`fill left ${counts.completed} completed + ${counts.pending} pending rows, expected ${stored}`);
  }
  const results: ScaleMeasurement[] = [];
  const record = (operation: string, ms: number[]) => results.push({ operation, ...summariseLatency(ms) });
  try {
    record(
      "status (getExecution)",
      await timeIt(samples, warmup, async () => {
        const id = completedId(1 + Math.floor(Math.random() * completed));
        if (!(await store.getExecution(id))) throw new Error(`bulk row ${id} not found`);
      }),
    );
    record(
      "list first page (50, no filter)",
      await timeIt(samples, warmup, () => store.listExecutions({ limit: 50, offset: 0, order: "desc" })),
    );
    record(
      "list first page (50, status=completed)",
      await timeIt(samples, warmup, () => store.listExecutions({ status: "completed", limit: 50, offset: 0, order: "desc" })),
    );
    record(
      "claim (1 due row)",
      await timeIt(samples, warmup, async () => {
        const { claimed } = await store.claim({ workerId: "bench", tasks: ["bench-w0"], limit: 1, now: Date.now(), leaseMs: 60_000 });
        if (claimed.length !== 1) throw new Error(`claim returned ${claimed.length} rows`);
      }),
    );
  } finally {
    await store.close();
  }
  return results;
}

export interface SleepersResult {
  count: number;
  baselineRssMb: number;
  rssMb: number;
  elapsedMs: number;
  parked: number;
}

/**
 * Worker memory with many sleeping executions: N due bench-sleep rows, one worker (concurrency 50)
 * runs each to its 1 h sleep; RSS is read once all are parked in `waiting`.
 */
export async function measureSleepers(target: Target, count: number): Promise<SleepersResult> {
  await fill(target, { completed: 0, pending: count, pendingTask: "bench-sleep" });
  const store = await openTarget(target);
  await sleep(200);
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  const engine = await Engine.start({ store, tasks: benchTasks, worker: { concurrency: 50 }, migrate: false });
  try {
    await waitUntil(async () => (await store.countByStatus()).waiting >= count, 100, 30 * 60_000, "executions to fall asleep");
    const elapsedMs = performance.now() - started;
    await sleep(500);
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    const parked = (await store.countByStatus()).waiting;
    return { count, baselineRssMb, rssMb, elapsedMs, parked };
  } finally {
    await engine.stop();
    await store.close();
  }
}
