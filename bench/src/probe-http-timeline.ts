/**
 * Probe for where one W1 execution's time goes on PostgreSQL (not part of the benchmark tables): the same
 * workflow one at a time, either over HTTP (zart-server with its worker, concurrency 10, as the benchmark's
 * latency cell: `POST /executions` then `GET /executions/:id/wait`) or in-process (`schedule` then
 * `waitForTerminal` in the worker's process, eager start). `perf trace` records the socket calls of the
 * process that runs the workflow, and the probe prints medians of what lies between them:
 *
 * - `pgRoundTripMs`: a statement written to PostgreSQL until its answer is read (the database's share);
 * - `answerToNextStatementMs`: an answer read until the next statement written, with no HTTP call between
 *   (the engine's own time between two writes of a run: a step, the group commit's turn, the query);
 * - over HTTP, `httpRequestToStatementMs` (the POST read until its insert is written), `answerToHttpReplyMs`
 *   (the insert's answer until the POST's reply, the last write's answer until the wait's reply) and
 *   `httpReplyToNextStatementMs` (the POST's reply until the run's next write);
 * - `p50Ms`: the client's whole time per execution while traced.
 *
 *   npx tsx src/probe-http-timeline.ts [http|in-process] [samples, default 200]
 *
 * Needs Linux `perf` (Debian: linux-perf) and the right to trace the process (root, or a low
 * kernel.perf_event_paranoid). PROBE_DB names the PostgreSQL database (default zbench_probe_http_timeline).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Engine } from "../../dist/engine/engine.js";
import { openStore } from "../../dist/store/open-store.js";
import { startZartServer } from "./http.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";
import { median } from "./stats.js";
import { benchTasks } from "./zart-tasks.js";

const [mode = "http", n = "200"] = process.argv.slice(2);
const samples = Number(n);
const WARMUP = 200;
const DB = probeDatabase("zbench_probe_http_timeline");
const traceFile = join(tmpdir(), `zart-probe-timeline-${process.pid}.txt`);

interface Call {
  at: number;
  call: "read" | "writev";
  fd: number;
  bytes: number;
}

/** The process's TCP sockets by fd: "pg" when the peer is PostgreSQL's port, else "http". */
function socketKinds(pid: number, pgPort: number): Map<number, "pg" | "http"> {
  const inodes = new Map<string, number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.set(match[1]!, Number(fd));
    } catch {
      // Closed while being read.
    }
  }
  const kinds = new Map<number, "pg" | "http">();
  for (const file of ["tcp", "tcp6"]) {
    const path = `/proc/${pid}/net/${file}`;
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const fd = inodes.get(cols[9] ?? "");
      if (fd === undefined) continue;
      const remotePort = Number.parseInt((cols[2] ?? ":0").split(":")[1] ?? "0", 16);
      kinds.set(fd, remotePort === pgPort ? "pg" : "http");
    }
  }
  return kinds;
}

function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*([\d.]+) \(\s*[\d.]+ ms\): \S+ (read|writev)\(fd: (\d+)[^)]*\)\s+=\s+(\d+)/.exec(line);
    if (m) calls.push({ at: Number(m[1]), call: m[2] as Call["call"], fd: Number(m[3]), bytes: Number(m[4]) });
  }
  return calls;
}

/** The medians described in the header, from the traced calls in order. */
function gaps(calls: readonly Call[], kinds: Map<number, "pg" | "http">): Record<string, number | null> {
  const roundTrips: number[] = [];
  const answerToStatement: number[] = [];
  const answerToReply: number[] = [];
  const replyToStatement: number[] = [];
  const requestToStatement: number[] = [];
  let lastRequest: number | null = null;
  const sentAt = new Map<number, number>();
  let lastAnswer: number | null = null;
  let lastReply: number | null = null;
  for (const c of calls) {
    const kind = kinds.get(c.fd);
    if (kind === "pg" && c.call === "writev") {
      if (lastAnswer !== null) answerToStatement.push(c.at - lastAnswer);
      else if (lastReply !== null) replyToStatement.push(c.at - lastReply);
      else if (lastRequest !== null) requestToStatement.push(c.at - lastRequest);
      sentAt.set(c.fd, c.at);
      lastAnswer = null;
      lastReply = null;
      lastRequest = null;
    } else if (kind === "pg" && c.call === "read" && c.bytes > 0 && sentAt.has(c.fd)) {
      roundTrips.push(c.at - (sentAt.get(c.fd) ?? c.at));
      sentAt.delete(c.fd);
      lastAnswer = c.at;
      lastReply = null;
      lastRequest = null;
    } else if (kind === "http" && c.call === "writev") {
      if (lastAnswer !== null) answerToReply.push(c.at - lastAnswer);
      lastReply = c.at;
      lastAnswer = null;
      lastRequest = null;
    } else if (kind === "http" && c.bytes > 0) {
      lastRequest = c.at;
      lastAnswer = null;
      lastReply = null;
    }
  }
  const ms = (xs: number[]) => (xs.length > 0 ? +median(xs).toFixed(3) : null);
  return {
    pgRoundTripMs: ms(roundTrips),
    httpRequestToStatementMs: ms(requestToStatement),
    answerToNextStatementMs: ms(answerToStatement),
    answerToHttpReplyMs: ms(answerToReply),
    httpReplyToNextStatementMs: ms(replyToStatement),
  };
}

/** Starts `perf trace` on `pid` and resolves once it has begun writing. */
async function startTrace(pid: number): Promise<ChildProcess> {
  const perf = spawn("perf", ["trace", "-o", traceFile, "-e", "read,writev", "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let failed = "";
  perf.stderr?.on("data", (chunk: Buffer) => {
    failed += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => perf.once("exit", () => resolve()));
  for (let i = 0; i < 200 && !existsSync(traceFile); i++) {
    const early = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 25))]);
    if (early) throw new Error(`perf trace ended before tracing: ${failed}`);
  }
  if (!existsSync(traceFile)) throw new Error(`perf trace did not start: ${failed}`);
  return perf;
}

async function stopTrace(perf: ChildProcess): Promise<Call[]> {
  const exited = new Promise<void>((resolve) => perf.once("exit", () => resolve()));
  perf.kill("SIGINT");
  await exited;
  const calls = parseTrace(readFileSync(traceFile, "utf8"));
  rmSync(traceFile, { force: true });
  return calls;
}

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const url = urlForDatabase(adminUrl(), DB);
const pgPort = Number(new URL(url).port || "5432");
try {
  let one: (i: number) => Promise<void>;
  let pid: number;
  let stop: () => Promise<void>;
  if (mode === "http") {
    const server = await startZartServer({ kind: "postgres", url, database: DB }, true, 10);
    pid = server.pid;
    stop = () => server.stop();
    one = async (i) => {
      const response = await fetch(`${server.url}/api/v1/executions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ task: "bench-w1", data: { i } }),
      });
      const { execution_id: id } = (await response.json()) as { execution_id: string };
      const body = (await (await fetch(`${server.url}/api/v1/executions/${id}/wait?timeout=30`)).json()) as { status: string };
      if (body.status !== "completed") throw new Error(`execution ${id} ended ${body.status}`);
    };
  } else {
    const store = await openStore(url);
    const engine = await Engine.start({ store, tasks: benchTasks, worker: { concurrency: 10 } });
    pid = process.pid;
    stop = async () => {
      await engine.stop();
      await store.close();
    };
    one = async (i) => {
      const { execution } = await engine.schedule({ task: "bench-w1", data: { i } });
      const done = await engine.waitForTerminal(execution.id, 30_000);
      if (done.status !== "completed") throw new Error(`execution ${execution.id} ended ${done.status}`);
    };
  }
  try {
    for (let i = 0; i < WARMUP; i++) await one(i);
    const kinds = socketKinds(pid, pgPort);
    const perf = await startTrace(pid);
    const whole: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await one(WARMUP + i);
      whole.push(performance.now() - t0);
    }
    const calls = await stopTrace(perf);
    console.log(JSON.stringify({ mode, samples, p50Ms: +median(whole).toFixed(3), tracedCalls: calls.length, ...gaps(calls, kinds) }));
  } finally {
    await stop();
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
}
