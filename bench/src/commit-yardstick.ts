/**
 * The machine's floor under every durable write: one single-row INSERT per transaction, one at a time, from
 * node-postgres to the same PostgreSQL, in a fresh database of the run. The latency thresholds are absolute
 * milliseconds, and this figure moves with the machine (its disk's flush time above all) as theirs do: an
 * in-process W0 is two such commits in sequence (insert, completion) and W1 four (insert, steps a and b,
 * step c with the completion), plus the work in each. Shown in the latency table, not a target.
 */
import pg from "pg";
import type { LatencyRecord } from "./results.js";
import type { Cell, Context } from "./runner.js";
import { summariseLatency } from "./stats.js";
import type { BenchSystem } from "./systems/types.js";

const SAMPLES = { tiny: 30, quick: 300, full: 1000 } as const;
const WARMUP = 50;

export function commitYardstickCell(ctx: Context, system: BenchSystem): Cell {
  const samples = SAMPLES[ctx.mode];
  return {
    name: `latency postgres commit yardstick samples=${samples}`,
    async run(runIndex) {
      const target = await ctx.targets.fresh(system);
      if (target.kind !== "postgres") throw new Error("the commit yardstick needs a PostgreSQL target");
      const client = new pg.Client({ connectionString: target.url });
      await client.connect();
      const times: number[] = [];
      let rows: { n: string; total: string } | undefined;
      try {
        await client.query("CREATE TABLE bench_yardstick (id bigserial PRIMARY KEY, v integer NOT NULL)");
        const insert = { name: "yardstick", text: "INSERT INTO bench_yardstick (v) VALUES ($1)" };
        for (let i = 0; i < WARMUP + samples; i++) {
          const started = performance.now();
          await client.query({ ...insert, values: [i] });
          if (i >= WARMUP) times.push(performance.now() - started);
        }
        ({
          rows: [rows],
        } = await client.query<{ n: string; total: string }>("SELECT count(*) AS n, sum(v) AS total FROM bench_yardstick"));
      } finally {
        await client.end();
      }
      const total = WARMUP + samples;
      const [count, sum] = [Number(rows?.n ?? 0), Number(rows?.total ?? 0)];
      const expectedSum = (total * (total - 1)) / 2;
      const ok = count === total && sum === expectedSum;
      const s = summariseLatency(times);
      const record: LatencyRecord = {
        system: "postgres",
        label: "PostgreSQL (yardstick)",
        storage: "postgres",
        workload: "commit",
        variant: "yardstick",
        settings:
          "one single-row INSERT per transaction, sequential (node-postgres, synchronous_commit=on): the floor under every durable write",
        run: runIndex,
        samples: s.samples,
        p50: s.p50,
        p95: s.p95,
        p99: s.p99,
        workerSideP50: null,
        check: {
          ok,
          expectedCount: total,
          expectedSum,
          count,
          sum,
          detail: ok ? "ok" : `rows ${count}/${total}, sum ${sum}/${expectedSum}`,
        },
      };
      ctx.results.latency.push(record);
      ctx.log(`${this.name}: p50 ${s.p50.toFixed(3)} ms`);
      if (!ok) throw new Error(`yardstick check failed: ${record.check.detail}`);
    },
  };
}
