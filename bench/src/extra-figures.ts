/**
 * Figures beyond the engine-to-engine comparison: HTTP (autocannon), Zart latency over HTTP, store
 * latency at scale, worker memory with sleeping executions and server memory with open long-polls.
 * Zart only (plus fastify's hello world as the HTTP yardstick).
 */
import { runInChild } from "./child.js";
import {
  httpLatency,
  httpLatencyRecord,
  load,
  longPollMemory,
  type Server,
  seedExecution,
  startHello,
  startZartServer,
  waitIdle,
  zartServerAvailable,
} from "./http.js";
import { retentionCells } from "./retention-figure.js";
import type { Cell, Context, Figure } from "./runner.js";
import type { ScaleMeasurement, SleepersResult } from "./scale.js";
import { loadSystem } from "./systems/index.js";
import { type BenchSystem, LATENCY_WARMUP, type Mode } from "./systems/types.js";
import { packageVersion } from "./util.js";

const MINUTE = 60_000;

const SIZES: Record<Mode, { large: number; samples: number; sleepers: number; polls: number; durationS: number; httpSamples: number }> = {
  tiny: { large: 5_000, samples: 30, sleepers: 300, polls: 100, durationS: 1, httpSamples: 10 },
  quick: { large: 100_000, samples: 200, sleepers: 10_000, polls: 1_000, durationS: 3, httpSamples: 60 },
  full: { large: 1_000_000, samples: 500, sleepers: 100_000, polls: 10_000, durationS: 10, httpSamples: 200 },
};

async function withServer<T>(server: Promise<Server>, fn: (s: Server) => Promise<T>): Promise<T> {
  const s = await server;
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

function helloCell(ctx: Context, durationS: number): Cell {
  return {
    name: "http fastify hello world",
    run: (run) =>
      withServer(startHello(), async (s) => {
        const record = await load(
          { target: "fastify", label: "fastify hello world", route: "GET /", url: `${s.url}/`, method: "GET", connections: 50, durationS },
          run,
        );
        ctx.results.http.push(record);
        ctx.log(`http fastify GET /: ${record.requestsPerSecond.toFixed(0)} req/s`);
      }),
  };
}

/** POST then (once the worker has drained what the POSTs made) GET status, on one zart-server with its worker. */
function zartHttpCell(ctx: Context, system: BenchSystem, durationS: number, worker: boolean): Cell {
  const target = `zart-server-${system.storage}${worker ? "" : "-api-only"}`;
  const label = `zart-server (${system.storage}${worker ? ", worker on" : ", API only"})`;
  return {
    name: `http ${target}`,
    async run(run) {
      const store = await ctx.targets.fresh(system);
      await withServer(startZartServer(store, worker), async (s) => {
        const id = await seedExecution(s.url);
        const body = JSON.stringify({ task: "bench-w0", data: { i: 1 } });
        const post = await load(
          { target, label, route: "POST /executions", url: `${s.url}/api/v1/executions`, method: "POST", body, connections: 50, durationS },
          run,
        );
        ctx.results.http.push(post);
        ctx.log(`http ${target} POST: ${post.requestsPerSecond.toFixed(0)} req/s (non-2xx ${post.non2xx})`);
        if (!worker) return;
        await waitIdle(s.url, 10 * MINUTE);
        const get = await load(
          {
            target,
            label,
            route: "GET /executions/:id",
            url: `${s.url}/api/v1/executions/${id}`,
            method: "GET",
            connections: 50,
            durationS,
          },
          run,
        );
        ctx.results.http.push(get);
        ctx.log(`http ${target} GET: ${get.requestsPerSecond.toFixed(0)} req/s (non-2xx ${get.non2xx})`);
      });
    },
  };
}

function httpLatencyCell(ctx: Context, system: BenchSystem, label: string, samples: number): Cell {
  return {
    name: `latency over http ${system.id}`,
    async run(run) {
      const store = await ctx.targets.fresh(system);
      await withServer(startZartServer(store, true, 10), async (s) => {
        const warmup = LATENCY_WARMUP[ctx.mode];
        for (const workload of ["w0", "w1"] as const) {
          const result = await httpLatency(s.url, workload, samples, warmup);
          const record = httpLatencyRecord(system.id, label, system.storage, workload, run, result, samples + warmup);
          ctx.results.latency.push(record);
          ctx.log(`latency over http ${system.id} ${workload}: p50 ${record.p50.toFixed(2)} ms, check ${record.check.detail}`);
          if (!record.check.ok) throw new Error(`output check failed: ${record.check.detail}`);
        }
      });
    },
  };
}

function scaleCell(ctx: Context, system: BenchSystem, stored: number, samples: number): Cell {
  return {
    name: `scale ${system.id} stored=${stored}`,
    async run(run) {
      const target = await ctx.targets.fresh(system);
      const { result } = await runInChild<ScaleMeasurement[]>({ op: "scale", system: system.id, target, stored, samples }, 30 * MINUTE);
      for (const m of result) {
        ctx.results.scale.push({
          storage: system.storage,
          stored,
          operation: m.operation,
          run,
          samples: m.samples,
          p50: m.p50,
          p95: m.p95,
          p99: m.p99,
        });
      }
      ctx.log(`scale ${system.id} ${stored}: ${result.map((m) => `${m.operation} p50 ${m.p50.toFixed(2)} ms`).join("; ")}`);
    },
  };
}

function sleepersCell(ctx: Context, system: BenchSystem, count: number): Cell {
  return {
    name: `memory ${system.id} sleepers=${count}`,
    async run(run) {
      const target = await ctx.targets.fresh(system);
      const { result } = await runInChild<SleepersResult>({ op: "sleepers", system: system.id, target, count }, 60 * MINUTE);
      ctx.results.memory.push({
        what: "worker RSS with sleeping executions",
        storage: system.storage,
        count,
        run,
        baselineRssMb: result.baselineRssMb,
        rssMb: result.rssMb,
        perItemKb: ((result.rssMb - result.baselineRssMb) * 1024) / count,
        note: `${result.parked} parked in ${(result.elapsedMs / 1000).toFixed(1)} s (${Math.round(count / (result.elapsedMs / 1000))}/s); baseline = store open, engine not started`,
      });
      ctx.log(
        `memory ${system.id}: ${count} sleeping → RSS ${result.rssMb.toFixed(0)} MB (baseline ${result.baselineRssMb.toFixed(0)} MB)`,
      );
    },
  };
}

function longPollCell(ctx: Context, system: BenchSystem, count: number): Cell {
  return {
    name: `memory ${system.id} long-polls=${count}`,
    async run(run) {
      const target = await ctx.targets.fresh(system);
      await withServer(startZartServer(target, true), async (s) => {
        const record = await longPollMemory(s, count, run, system.storage);
        ctx.results.memory.push(record);
        ctx.log(
          `memory long-polls ${count}: RSS ${record.rssMb.toFixed(0)} MB (baseline ${record.baselineRssMb.toFixed(0)} MB); ${record.note}`,
        );
      });
    },
  };
}

export async function extraCells(ctx: Context, figures: ReadonlySet<Figure>, systemIds: readonly string[]): Promise<Cell[]> {
  const base = SIZES[ctx.mode];
  const sizes = {
    ...base,
    large: ctx.sizes.stored ?? base.large,
    sleepers: ctx.sizes.sleepers ?? base.sleepers,
    polls: ctx.sizes.polls ?? base.polls,
  };
  const zart = await Promise.all(systemIds.filter((id) => id.startsWith("zart-")).map(loadSystem));
  const cells: Cell[] = [];
  const server = zartServerAvailable();
  if (figures.has("http")) {
    ctx.results.versions.fastify = `fastify ${packageVersion("fastify")} (hello world)`;
    ctx.results.versions.autocannon = `autocannon ${packageVersion("autocannon")} (load generator)`;
  }
  if (!server && (figures.has("http") || figures.has("memory")))
    ctx.results.notes.push("src/cli/zart-server.ts not found: HTTP and long-poll figures skipped");
  if (figures.has("http")) {
    cells.push(helloCell(ctx, sizes.durationS));
    if (server) {
      for (const system of zart) {
        cells.push(zartHttpCell(ctx, system, sizes.durationS, true));
        if (system.storage === "sqlite") cells.push(zartHttpCell(ctx, system, sizes.durationS, false));
        cells.push(httpLatencyCell(ctx, system, ctx.results.versions[system.id] ?? system.id, sizes.httpSamples));
      }
    }
  }
  if (figures.has("scale")) {
    for (const system of zart) for (const stored of [1_000, sizes.large]) cells.push(scaleCell(ctx, system, stored, sizes.samples));
  }
  if (figures.has("memory")) {
    for (const system of zart) cells.push(sleepersCell(ctx, system, sizes.sleepers));
    const first = zart.find((s) => s.storage === "sqlite") ?? zart[0];
    if (server && first) cells.push(longPollCell(ctx, first, sizes.polls));
  }
  if (figures.has("retention")) cells.push(...retentionCells(ctx, zart));
  return cells;
}
