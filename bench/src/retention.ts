/**
 * The retention figure (PostgreSQL): do workers stall while a prune round deletes a large history? A
 * database holds `stored` old finished executions (each with one step record), bulk-inserted with
 * generate_series straight into the store's tables (the schema of src/store/postgres/migrations/; if it
 * changes, these INSERTs must follow). Then, in one phase with nothing else running and in another
 * while a separate process prunes them (`engine.prune`, the shipped batch size and pause), a worker
 * process drains `n` W0 executions (executions/s), and single claims of one due row are timed one at a
 * time (p50/p95/p99). Each phase gets a freshly filled database, so both start from the same state.
 *
 * Everything here runs inside child processes (see child-main.ts); the cell in extra-figures.ts
 * orchestrates them.
 */
import pg from "pg";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import type { Store } from "../../dist/store/store.js";
import { summariseLatency } from "./stats.js";
import type { Target } from "./systems/types.js";
import { peakRss, waitUntil } from "./util.js";
import { benchTasks } from "./zart-tasks.js";

const SCHEMA = "zart";
/** The old executions' task; their completed_at is a year before the fill, so any retention below that prunes them. */
export const OLD_TASK = "bench-old";
const YEAR_MS = 365 * 86_400_000;
/** What the pruning phase deletes: everything that ended more than 30 days ago (all the old rows, nothing else). */
export const PRUNE_OLDER_THAN = "30d";

function pgTarget(target: Target): Extract<Target, { kind: "postgres" }> {
  if (target.kind !== "postgres") throw new Error("the retention figure runs on PostgreSQL only");
  return target;
}

/**
 * `stored` completed executions of OLD_TASK that ended a year ago, each with one completed step record;
 * `n` due bench-w0 rows (what the drain takes) and `claims` due rows of a task no worker serves (what the
 * timed claims take).
 */
export async function fill(target: Target, stored: number, n: number, claims: number): Promise<void> {
  const client = new pg.Client({ connectionString: pgTarget(target).url });
  await client.connect();
  try {
    // Triggers off for the fill (NOTIFY and count deltas per statement are not wanted); the counts are written below.
    await client.query("set session_replication_role = replica");
    const base = Date.now() - YEAR_MS - stored;
    const chunk = 100_000;
    for (let from = 1; from <= stored; from += chunk) {
      const to = Math.min(stored, from + chunk - 1);
      await client.query(
        `insert into ${SCHEMA}.executions
           (id, task, status, data, created_at, updated_at, started_at, completed_at, output, steps_completed, attempt, runnable_at, lease_token)
         select 'exec-o' || lpad(g::text, 12, '0'), $3, 'completed', '{"i":' || g || '}',
                $4 + g, $4 + g + 5, $4 + g, $4 + g + 5, g::text, 1, 1, null, 1
           from generate_series($1::bigint, $2::bigint) g`,
        [from, to, OLD_TASK, base],
      );
      await client.query(
        `insert into ${SCHEMA}.steps (execution_id, name, kind, state, result, attempts, started_at, completed_at, seq, settled_in)
         select 'exec-o' || lpad(g::text, 12, '0'), 'work', 'step', 'completed', g::text, 1, $3 + g + 1, $3 + g + 4, 1, 1
           from generate_series($1::bigint, $2::bigint) g`,
        [from, to, base],
      );
    }
    const now = Date.now() - n - claims - 10;
    await client.query(
      `insert into ${SCHEMA}.executions (id, task, status, data, created_at, updated_at, runnable_at)
       select 'exec-w' || lpad(g::text, 12, '0'), 'bench-w0', 'pending', '{"i":' || (g - 1) || '}', $2 + g, $2 + g, $2 + g
         from generate_series(1, $1::bigint) g`,
      [n, now],
    );
    await client.query(
      `insert into ${SCHEMA}.executions (id, task, status, data, created_at, updated_at, runnable_at)
       select 'exec-q' || lpad(g::text, 12, '0'), 'bench-claim', 'pending', '{}', $2 + g, $2 + g, $2 + g
         from generate_series(1, $1::bigint) g`,
      [claims, now + n],
    );
    await client.query("set session_replication_role = origin");
    await client.query(
      `insert into ${SCHEMA}.status_counts as sc (task, status, n)
       values ($1, 'completed', $2), ('bench-w0', 'pending', $3), ('bench-claim', 'pending', $4)
       on conflict (task, status) do update set n = sc.n + excluded.n`,
      [OLD_TASK, stored, n, claims],
    );
    // A real table this size would have been visited by autovacuum; do it now so plans and visibility are settled.
    await client.query(`vacuum analyze ${SCHEMA}.executions`);
    await client.query(`vacuum analyze ${SCHEMA}.steps`);
  } finally {
    await client.end();
  }
}

export interface DrainMeasurement {
  elapsedMs: number;
  perSecond: number;
  rssPeak: number;
}

/**
 * One worker (concurrency 50, stock settings) drains the `n` bench-w0 rows; done when the task's count of
 * completed rows reaches n (the old rows are completed too, so the global count cannot say).
 */
export async function drainW0(target: Target, n: number): Promise<DrainMeasurement> {
  await import("../../dist/store/postgres/postgres-store.js");
  const started = performance.now();
  const store = await openStore(pgTarget(target).url, { schema: SCHEMA });
  const engine = await Engine.start({ store, tasks: benchTasks, worker: { concurrency: 50 }, migrate: false, scheduler: false });
  const completed = async () =>
    (await store.listExecutions({ task: "bench-w0", status: "completed", limit: 1, offset: 0, order: "asc" })).total;
  await waitUntil(async () => (await completed()) >= n, 2, 30 * 60_000, "the W0 drain");
  const elapsedMs = performance.now() - started;
  await engine.stop();
  await store.close();
  return { elapsedMs, perSecond: n / (elapsedMs / 1000), rssPeak: peakRss() };
}

export interface ClaimMeasurement {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

/** One claim of one due bench-claim row at a time (the rows `fill` made), timed; the first `warmup` dropped. */
export async function timeClaims(target: Target, samples: number, warmup: number): Promise<ClaimMeasurement> {
  const store = await openStore(pgTarget(target).url, { schema: SCHEMA });
  const times: number[] = [];
  try {
    for (let k = 0; k < samples + warmup; k++) {
      const started = performance.now();
      const { claimed } = await store.claim({ workerId: "bench", tasks: ["bench-claim"], limit: 1, now: Date.now(), leaseMs: 600_000 });
      if (claimed.length !== 1) throw new Error(`claim ${k} returned ${claimed.length} rows`);
      if (k >= warmup) times.push(performance.now() - started);
    }
  } finally {
    await store.close();
  }
  return summariseLatency(times);
}

export interface PruneMeasurement {
  pruned: number;
  elapsedMs: number;
  batchSize: number;
}

/** One `engine.prune` round in a process of its own (API only), as `zart prune` would ask a server for. */
export async function pruneOld(target: Target, batchSize: number): Promise<PruneMeasurement> {
  const store: Store = await openStore(pgTarget(target).url, { schema: SCHEMA });
  const engine = await Engine.start({
    store,
    worker: false,
    migrate: false,
    scheduler: false,
    retention: { batchSize },
  });
  try {
    const started = performance.now();
    const pruned = await engine.prune({ olderThan: PRUNE_OLDER_THAN });
    return { pruned, elapsedMs: performance.now() - started, batchSize };
  } finally {
    await engine.stop();
    await store.close();
  }
}
