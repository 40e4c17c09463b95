/**
 * Profiling probe for the one-at-a-time latency figures (not part of the benchmark tables): runs W0, W1 or
 * W3 one execution at a time against a fresh database (`zbench_probe_lat`, or PROBE_DB), like the
 * benchmark's in-process latency cell, and prints the median start→completion time plus a median timeline
 * of the store calls inside one execution (when each call started and how long it took), so the gaps
 * between commits show.
 *
 *   npx tsx src/probe-latency.ts [w0|w0-late|w1|w3] [samples]
 *   w0-late               W0 whose code returns one event-loop turn late: started eagerly, but its insert
 *                         no longer rides with its completion (insert, then completion: two commits)
 *   PROBE_EAGER=0         the worker's eagerStart off (insert, notice, claim, as from another process)
 *   PROBE_PARKED_RESUME=0, PROBE_TERMINAL_CACHE=0: the ablations of probe-knobs.ts
 *   PROBE_ASYNC_COMMIT=1  synchronous_commit off for the database (what the commits' flushes cost)
 *   PROBE_PAUSE=ms        idle this long before the single-row commit measured between samples
 *   PROBE_IDLE_MS=ms      W3: idle before the delivery (default 20, as in the benchmark)
 *   PROBE_CPUPROF=file    a V8 CPU profile of the measured samples
 *   PROBE_WARMUP=n        samples run and dropped first (default 20)
 */
import pg from "pg";
import { defineTask } from "../../dist/core/task.js";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import type { Store } from "../../dist/store/store.js";
import { startProfile } from "./cpu-profile.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { applyKnobs, probeDatabase } from "./probe-knobs.js";
import { sleep } from "./util.js";
import { benchTasks, TASK_FOR } from "./zart-tasks.js";

const [workload = "w1", n = "200"] = process.argv.slice(2) as ["w0" | "w0-late" | "w1" | "w3", string];
const samples = Number(n);
const WARMUP = Number(process.env.PROBE_WARMUP ?? 20);
const DB = probeDatabase("zbench_probe_lat");
const knobs = applyKnobs();
const eagerStart = process.env.PROBE_EAGER !== "0";
console.log(JSON.stringify({ workload, samples, warmup: WARMUP, eagerStart, ...knobs }));

/** W0 that returns one turn of the event loop late, so its eager insert is written before it ends. */
const w0Late = defineTask({
  name: "bench-w0-late",
  async run(_ctx, data: { i: number }) {
    await new Promise((resolve) => setImmediate(resolve));
    return data.i;
  },
});
const taskFor = { ...TASK_FOR, "w0-late": w0Late.name };

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
if (process.env.PROBE_ASYNC_COMMIT) await admin.query(`ALTER DATABASE ${DB} SET synchronous_commit = off`);
const url = urlForDatabase(adminUrl(), DB);

/** Every call of the store, timed: [method, start, end] relative to the sample's start. */
let origin = 0;
let trace: Array<[string, number, number]> = [];
function traced(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const started = performance.now() - origin;
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          return result.then((r) => {
            trace.push([String(prop), started, performance.now() - origin]);
            return r;
          });
        }
        return result;
      };
    },
  });
}

const raw = await openStore(url, { schema: "zart" });
await raw.migrate();
const store = traced(raw);
const engine = await Engine.start({
  store,
  tasks: [...benchTasks, w0Late],
  worker: { concurrency: 10, eagerStart },
  migrate: false,
});
let profiler: { stop(): Promise<void> } | null = null;
const totals: number[] = [];
let cpuStart = process.cpuUsage();
let wallStart = performance.now();
const traces: Array<Array<[string, number, number]>> = [];
// The same single-row commit as the benchmark's yardstick, from this process, between samples.
const yardstick = new pg.Client(url);
await yardstick.connect();
await yardstick.query("CREATE TABLE probe_yardstick (id bigserial PRIMARY KEY, v integer NOT NULL)");
const commits: number[] = [];
for (let i = 0; i < samples + WARMUP; i++) {
  if (process.env.PROBE_PAUSE) await sleep(Number(process.env.PROBE_PAUSE));
  const before = performance.now();
  await yardstick.query({ name: "y", text: "INSERT INTO probe_yardstick (v) VALUES ($1)", values: [i] });
  if (i >= WARMUP) commits.push(performance.now() - before);
  let id: string;
  if (workload === "w3") {
    const { execution } = await engine.schedule({ task: TASK_FOR.w3, data: { i } });
    id = execution.id;
    for (;;) {
      const e = await engine.get(id);
      if (e.status === "waiting") break;
      await sleep(2);
    }
    await sleep(Number(process.env.PROBE_IDLE_MS ?? 20));
    trace = [];
    origin = performance.now();
    await engine.deliverEvent(id, "go", "0");
  } else {
    trace = [];
    origin = performance.now();
    ({
      execution: { id },
    } = await engine.schedule({ task: taskFor[workload], data: { i } }));
  }
  const done = await engine.waitForTerminal(id, 30_000);
  const total = performance.now() - origin;
  if (done.status !== "completed") throw new Error(`ended ${done.status}`);
  if (i === WARMUP - 1) {
    // Every 50 µs: sub-millisecond phases.
    if (process.env.PROBE_CPUPROF) profiler = await startProfile(process.env.PROBE_CPUPROF, 50);
    cpuStart = process.cpuUsage();
    wallStart = performance.now();
  }
  if (i >= WARMUP) {
    totals.push(total);
    traces.push(trace);
  }
}
const cpu = process.cpuUsage(cpuStart);
await profiler?.stop();
const wall = performance.now() - wallStart;
console.log(
  `node cpu ${((cpu.user + cpu.system) / 1000 / samples).toFixed(2)} ms per execution (user ${(cpu.user / 1000 / samples).toFixed(2)}) (wall ${(wall / samples).toFixed(2)})`,
);
await engine.stop();
await yardstick.end();
await raw.close();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(
  `${workload}: p50 ${median(totals).toFixed(2)} ms over ${samples}; one single-row commit from this process between samples: p50 ${median(commits).toFixed(2)} ms`,
);
// How the latency settles as the code warms up (JIT tiers, plan caches): p50 per block of samples.
const block = Math.max(1, Math.ceil(samples / 10));
const blocks: string[] = [];
for (let k = 0; k < totals.length; k += block) blocks.push(median(totals.slice(k, k + block)).toFixed(2));
console.log(`p50 per block of ${block} samples: ${blocks.join(" ")}`);
// The most common call sequence, with median start and end per position.
const shapes = new Map<string, number>();
for (const t of traces) {
  const key = t.map(([m]) => m).join(",");
  shapes.set(key, (shapes.get(key) ?? 0) + 1);
}
const [shape, count] = [...shapes].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
console.log(`most common sequence (${count}/${traces.length}): ${shape}`);
const same = traces.filter((t) => t.map(([m]) => m).join(",") === shape);
const calls = shape.split(",");
calls.forEach((m, k) => {
  const s = median(same.map((t) => t[k]?.[1] ?? 0));
  const e = median(same.map((t) => t[k]?.[2] ?? 0));
  console.log(`  ${m.padEnd(20)} start ${s.toFixed(2)}  end ${e.toFixed(2)}  took ${(e - s).toFixed(2)}`);
});
console.log(`  completion seen     ${median(same.map((_, k) => totals[traces.indexOf(same[k] ?? [])] ?? 0)).toFixed(2)}`);
