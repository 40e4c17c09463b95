/**
 * HTTP figures: autocannon against fastify's hello world and against zart-server (POST /executions,
 * GET /executions/:id), Zart latency over HTTP (POST then the long-poll wait), and the server's RSS with
 * many open long-polls. Servers run in their own process; the load generator runs in this one, on the
 * same two cores (stated in the tables).
 * Long because the figures share the servers' start-up and the load generator; each figure is one function.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import type { HttpRecord, LatencyRecord, MemoryRecord } from "./results.js";
import { summariseLatency } from "./stats.js";
import type { Target } from "./systems/types.js";
import { pooled, sleep, waitUntil } from "./util.js";
import { checkOutputs, OutputTally } from "./workloads.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
// The server as installed: bin/ runs the compiled dist/ (built by `npm run bench`); it loads the
// TypeScript task module through tsx itself, as it would a user's.
const ZART_SERVER = `${REPO}bin/zart-server.js`;
const TASKS = fileURLToPath(new URL("./zart-tasks.ts", import.meta.url));
const HELLO = fileURLToPath(new URL("./hello-server.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

export interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns a server and resolves once it prints "listening on <url>". */
function startServer(args: string[], what: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not start within 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve({
          url: match[1]!.replace(/\/$/, ""),
          pid: child.pid!,
          stop: () =>
            new Promise<void>((done) => {
              const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
              child.once("exit", () => {
                clearTimeout(kill);
                done();
              });
              child.kill("SIGTERM");
            }),
        });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening:\n${output}`));
    });
  });
}

export function startHello(): Promise<Server> {
  return startServer(["--import", TSX, HELLO], "hello-server");
}

export function zartServerAvailable(): boolean {
  try {
    readFileSync(ZART_SERVER);
    return true;
  } catch {
    return false;
  }
}

/**
 * zart-server on the run's fresh store, loading the bench tasks; `worker` false = API only. `nodeArgs`:
 * Node flags for the server process (a probe's preload or CPU profile).
 */
export function startZartServer(target: Target, worker: boolean, concurrency = 50, nodeArgs: readonly string[] = []): Promise<Server> {
  const database = target.kind === "postgres" ? target.url : target.path;
  const args = [
    ...nodeArgs,
    ZART_SERVER,
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--database",
    database,
    "--tasks",
    TASKS,
    "--log-level",
    "warn",
  ];
  if (worker) args.push("--concurrency", String(concurrency));
  else args.push("--no-worker");
  return startServer(args, "zart-server");
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

async function autocannon(options: Record<string, unknown>): Promise<AutocannonResult> {
  const mod = (await import("autocannon")) as unknown as { default: Autocannon };
  return mod.default(options);
}

export interface LoadSpec {
  target: string;
  label: string;
  route: string;
  url: string;
  method: "GET" | "POST";
  body?: string;
  connections: number;
  durationS: number;
}

export async function load(spec: LoadSpec, run: number): Promise<HttpRecord> {
  const result = await autocannon({
    url: spec.url,
    method: spec.method,
    body: spec.body,
    headers: spec.body ? { "content-type": "application/json" } : {},
    connections: spec.connections,
    duration: spec.durationS,
  });
  return {
    target: spec.target,
    label: spec.label,
    route: spec.route,
    connections: spec.connections,
    durationS: spec.durationS,
    run,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function postExecution(base: string, task: string, i: number): Promise<string> {
  const response = await fetch(`${base}/api/v1/executions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ task, data: { i } }),
  });
  if (response.status !== 201) throw new Error(`POST /executions answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { execution_id: string }).execution_id;
}

/** One existing execution id to GET over and over. */
export async function seedExecution(base: string): Promise<string> {
  return postExecution(base, "bench-w0", 0);
}

/** Waits until the server's worker has nothing left pending or running (after a POST load). */
export async function waitIdle(base: string, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const stats = (await (await fetch(`${base}/api/v1/stats`)).json()) as Record<string, number>;
      return (stats.pending ?? 0) + (stats.running ?? 0) === 0;
    },
    100,
    timeoutMs,
    "zart-server to finish its backlog",
  );
}

/** Zart over HTTP: POST /executions, then GET /executions/:id/wait until it returns the output. */
export async function httpLatency(
  base: string,
  workload: "w0" | "w1",
  samples: number,
  warmup: number,
): Promise<{ samplesMs: number[]; tally: ReturnType<OutputTally["summary"]> }> {
  const tally = new OutputTally(workload, samples + warmup);
  const samplesMs: number[] = [];
  for (let i = 0; i < samples + warmup; i++) {
    const started = performance.now();
    const id = await postExecution(base, `bench-${workload}`, i);
    const response = await fetch(`${base}/api/v1/executions/${id}/wait?timeout=30`);
    const body = (await response.json()) as { status: string; output: number };
    const ended = performance.now();
    if (response.status !== 200 || body.status !== "completed") throw new Error(`wait answered ${response.status} ${JSON.stringify(body)}`);
    tally.record(i, body.output);
    if (i >= warmup) samplesMs.push(ended - started);
  }
  return { samplesMs, tally: tally.summary() };
}

export function httpLatencyRecord(
  system: string,
  label: string,
  storage: string,
  workload: "w0" | "w1",
  run: number,
  result: { samplesMs: number[]; tally: ReturnType<OutputTally["summary"]> },
  total: number,
): LatencyRecord {
  const s = summariseLatency(result.samplesMs);
  return {
    system,
    label,
    storage,
    workload,
    variant: "http",
    settings: "over HTTP (POST /executions → GET /executions/:id/wait), zart-server with its worker",
    run,
    samples: s.samples,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    workerSideP50: null,
    check: checkOutputs(workload, total, result.tally),
  };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function openLongPolls(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = /^zart_http_open_long_polls\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * Server RSS with `count` open long-polls: `count` executions parked on an event (W3), one
 * GET /executions/:id/wait per execution, each on its own connection; RSS read from /proc once the
 * server reports them all open. The polls are then cut (the server must free each at once).
 */
export async function longPollMemory(server: Server, count: number, run: number, storage: string): Promise<MemoryRecord> {
  const ids: string[] = new Array(count);
  await pooled(count, 50, async (i) => {
    ids[i] = await postExecution(server.url, "bench-w3", i);
  });
  await waitUntil(
    async () => {
      const stats = (await (await fetch(`${server.url}/api/v1/stats`)).json()) as Record<string, number>;
      return (stats.waiting ?? 0) >= count;
    },
    200,
    10 * 60_000,
    "executions to park on their event",
  );
  await sleep(500);
  const baselineRssMb = rssMb(server.pid);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const requests: http.ClientRequest[] = [];
  const { hostname, port } = new URL(server.url);
  for (const id of ids) {
    const request = http.get({ agent, hostname, port, path: `/api/v1/executions/${id}/wait?timeout=600` });
    request.on("error", () => {});
    requests.push(request);
    if (requests.length % 500 === 0) await sleep(10);
  }
  let open = 0;
  try {
    await waitUntil(
      async () => {
        open = await openLongPolls(server.url);
        return open >= count;
      },
      200,
      120_000,
      `${count} open long-polls`,
    );
  } catch {
    // Report what did open; the note says how many.
  }
  await sleep(1000);
  const rss = rssMb(server.pid);
  for (const request of requests) request.destroy();
  agent.destroy();
  return {
    what: "zart-server RSS with open long-polls",
    storage,
    count,
    run,
    baselineRssMb,
    rssMb: rss,
    perItemKb: ((rss - baselineRssMb) * 1024) / count,
    note: `${open} polls open when measured; baseline = after the ${count} executions parked, before the polls`,
  };
}
