/**
 * Probe for the latency over HTTP (not part of the benchmark tables): the compiled zart-server with its
 * worker (concurrency 10, as the benchmark's cell), one execution at a time, `POST /executions` then
 * `GET /executions/:id/wait`, with the same client as the benchmark (fetch); prints the medians of the
 * whole, of the POST alone and of the wait alone.
 *
 *   npx tsx src/probe-http-latency.ts [sqlite|postgres] [w0|w1] [samples, default 300] [rounds, default 1]
 *   PROBE_DB names the PostgreSQL database (default zbench_probe_http_latency)
 *   PROBE_CPUPROF=dir  the server writes a V8 CPU profile there when it stops
 *   PROBE_CLIENT=http  node:http with a keep-alive agent instead of fetch, to see the client's own share
 *                      (also prints the median of a bare GET /healthz with that client)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startZartServer } from "./http.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";
import { median } from "./stats.js";
import type { Target } from "./systems/types.js";

const [storage = "sqlite", workload = "w1", n = "300", r = "1"] = process.argv.slice(2);
const samples = Number(n);
const rounds = Number(r);
const WARMUP = 100;
const DB = probeDatabase("zbench_probe_http_latency");
const serverArgs = process.env.PROBE_CPUPROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROBE_CPUPROF}`] : [];

async function freshTarget(): Promise<{ target: Target; drop(): Promise<void> }> {
  if (storage === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "zart-probe-http-latency-"));
    return { target: { kind: "sqlite", path: join(dir, "zart.db") }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = new pg.Client(adminUrl());
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB}`);
  return {
    target: { kind: "postgres", url: urlForDatabase(adminUrl(), DB), database: DB },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
/** One request and its JSON body, with the client PROBE_CLIENT picks. */
async function call(url: string, method: "GET" | "POST" = "GET", body?: string): Promise<unknown> {
  if (process.env.PROBE_CLIENT !== "http") {
    const response = await fetch(url, body === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body });
    return response.json();
  }
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

for (let round = 1; round <= rounds; round++) {
  const { target, drop } = await freshTarget();
  const server = await startZartServer(target, true, 10, serverArgs);
  const whole: number[] = [];
  const posts: number[] = [];
  const waits: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < samples + WARMUP; i++) {
      const t0 = performance.now();
      const { execution_id: id } = (await call(
        `${server.url}/api/v1/executions`,
        "POST",
        JSON.stringify({ task: `bench-${workload}`, data: { i } }),
      )) as { execution_id: string };
      const t1 = performance.now();
      const body = (await call(`${server.url}/api/v1/executions/${id}/wait?timeout=30`)) as { status: string };
      const t2 = performance.now();
      if (body.status !== "completed") throw new Error(`execution ${id} ended ${body.status}`);
      if (i < WARMUP) continue;
      whole.push(t2 - t0);
      posts.push(t1 - t0);
      waits.push(t2 - t1);
    }
    for (let i = 0; i < samples + WARMUP; i++) {
      const t0 = performance.now();
      await call(`${server.url}/healthz`);
      if (i >= WARMUP) bare.push(performance.now() - t0);
    }
  } finally {
    await server.stop();
    await drop();
  }
  const ms = (x: number) => +x.toFixed(3);
  console.log(
    JSON.stringify({
      storage,
      workload,
      round,
      samples,
      p50: ms(median(whole)),
      postP50: ms(median(posts)),
      waitP50: ms(median(waits)),
      bareGetP50: ms(median(bare)),
      client: process.env.PROBE_CLIENT ?? "fetch",
    }),
  );
}
