/**
 * A randomized drain on PostgreSQL that looks for lost wake-ups (not a benchmark; RELIABILITY.md): one worker,
 * its safety poll an hour away, drains executions of two concurrency-limited tasks that are scheduled in
 * bursts and one by one, some with a priority, some sleeping a few milliseconds between their steps (a
 * park, a freed slot, a claim again). Every execution must be reached through notices and claims alone;
 * one still not finished 20 s after its round was scheduled is a stall, and the probe prints the rows left
 * and exits 1. Inputs come from the seed; timing from the machine, so runs differ. Lost wake-ups showed
 * mostly under load: run several at once.
 *
 *   ZART_ROOT=/path/to/checkout npx tsx src/probe-keyed-drain.ts [rounds 8] [per-round 200] [concurrency 3] [seed]
 *
 * PostgreSQL: PROBE_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), a schema of its own per run.
 */
import pg from "pg";
import { defineTask, Engine, openStore, root } from "./zart-tree.js";

const [roundsArg = "8", perRoundArg = "200", concurrencyArg = "3", seedArg = String(process.pid)] = process.argv.slice(2);
const rounds = Number(roundsArg);
const perRound = Number(perRoundArg);
const seed = Number(seedArg);
const url = process.env.PROBE_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const schema = `zbench_drain_${process.pid}`;

function generator(s0: number): () => number {
  let s = s0 >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The part of a task's context this probe uses (the engine is loaded from ZART_ROOT, untyped). */
interface DrainContext {
  step<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  sleep(name: string, duration: string): Promise<void>;
}

interface Job {
  k: string;
  turns: number;
  nap: boolean;
}

function limitedTask(name: string, limit: number) {
  return defineTask({
    name,
    concurrency: { limit, key: (job: Job) => job.k },
    async run(ctx: DrainContext, job: Job) {
      await ctx.step("one", async () => {
        for (let i = 0; i < job.turns; i++) await new Promise((resolve) => setImmediate(resolve));
        return 1;
      });
      if (job.nap) await ctx.sleep("nap", "5ms");
      return ctx.step("two", () => 2);
    },
  });
}

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const store = await openStore(`${url}?schema=${schema}`, { logger: silent });
await store.migrate();
const engine = await Engine.start({
  store,
  tasks: [limitedTask("keyed-two", 2), limitedTask("keyed-one", 1)],
  logger: silent,
  worker: { concurrency: Number(concurrencyArg), safetyPollMs: 3_600_000 },
});
let stalled: { round: number; left: unknown[]; state: unknown } | null = null;

/** What the worker and the claim floor believe at a stall (private fields, read for the report only). */
function internals(): unknown {
  const worker = engine.runtime.worker;
  const slots = worker.slots;
  return {
    now: Date.now(),
    worker: {
      running: slots.running.size,
      settling: slots.settling.size,
      buffer: slots.buffer.length,
      room: slots.claimRoom(),
      mayHaveMore: worker.mayHaveMore,
      wanted: worker.wanted,
      claiming: worker.claiming !== null,
      wakeAt: worker.wake.timer?.at ?? null,
    },
    floors: [...(store.floor?.floors ?? [])],
  };
}
try {
  for (let round = 0; round < rounds && stalled === null; round++) {
    const random = generator(seed * 1000 + round);
    const ids: string[] = [];
    const burst: Promise<unknown>[] = [];
    for (let i = 0; i < perRound; i++) {
      const task = random() < 0.7 ? "keyed-two" : "keyed-one";
      const job: Job = { k: `g${Math.floor(random() * 4)}`, turns: Math.floor(random() * 4), nap: random() < 0.2 };
      const priority = random() < 0.3 ? Math.floor(random() * 3) : undefined;
      const scheduled = engine.schedule({ task, data: job, priority }).then((r: { execution: { id: string } }) => ids.push(r.execution.id));
      if (random() < 0.5) await scheduled;
      else burst.push(scheduled);
      // Short pauses now and then, so the worker goes idle between arrivals.
      if (random() < 0.1) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 5)));
    }
    await Promise.all(burst);
    for (const id of ids) {
      if ((await engine.waitForTerminal(id, 20_000)).status === "completed") continue;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query(
        `SELECT id, task, status, runnable_at, created_at, updated_at, lease_token, concurrency_key, priority
           FROM ${schema}.executions WHERE status NOT IN ('completed', 'failed', 'cancelled') ORDER BY created_at`,
      );
      await client.end();
      stalled = { round, left: rows, state: internals() };
      break;
    }
  }
} finally {
  await engine.stop();
  await store.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
console.log(
  JSON.stringify({ root, seed, rounds, perRound, stalled: stalled === null ? null : { round: stalled.round, left: stalled.left.length } }),
);
if (stalled !== null) {
  console.log(JSON.stringify(stalled.state));
  for (const line of (globalThis as { FLOOR_LOG?: string[] }).FLOOR_LOG ?? []) console.log(`FL ${line}`);
  console.log(JSON.stringify(stalled.left));
  process.exit(1);
}
