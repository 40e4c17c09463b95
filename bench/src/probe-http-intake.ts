/**
 * Probe for `POST /executions` on zart-server over PostgreSQL (not part of the benchmark tables): the
 * compiled server with its worker (or API only), autocannon with 50 connections, then the CPU the server
 * process and PostgreSQL's processes spent per accepted request, read from /proc, and PostgreSQL
 * transactions per request.
 *
 *   npx tsx src/probe-http-intake.ts [worker|api] [seconds, default 10] [rounds, default 1]
 *   PROBE_POOL=n       the server's PostgreSQL pool size (default: the store's)
 *   PROBE_DB names the database (default zbench_probe_http_intake)
 *   PROBE_STATEMENTS=1 also print the statements by total time per request (needs pg_stat_statements in
 *                      shared_preload_libraries; the extension is created in the admin database)
 *   PROBE_INSERTS=at-once the server's insert batcher as before decision 032 (server-knobs.mjs)
 *   PROBE_CPUPROF=dir  the server writes a V8 CPU profile there when it stops (read it with profile-summary.ts)
 *   PROBE_STORE=sqlite the same server on a fresh SQLite file instead (PostgreSQL's figures then read 0)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { load, startZartServer } from "./http.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";
import { machineIdleMs, postgresCpuMs, processCpuMs, syscalls } from "./proc-cpu.js";

const [mode = "worker", s = "10", r = "1"] = process.argv.slice(2);
const seconds = Number(s);
const rounds = Number(r);
const DB = probeDatabase("zbench_probe_http_intake");
const sqlite = process.env.PROBE_STORE === "sqlite";
async function printStatements(requests: number): Promise<void> {
  const { rows } = await admin.query(
    `SELECT calls, total_exec_time AS ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 ORDER BY total_exec_time DESC LIMIT 12`,
    [DB],
  );
  for (const row of rows) {
    const perReq = (Number(row.ms) * 1000) / requests;
    const perCall = (Number(row.ms) * 1000) / Number(row.calls);
    console.log(
      `${perReq.toFixed(1).padStart(7)} µs/req ${(Number(row.calls) / requests).toFixed(3).padStart(7)} calls/req ${perCall.toFixed(0).padStart(6)} µs/call ${(Number(row.rows) / Number(row.calls)).toFixed(1).padStart(6)} rows/call  ${row.query}`,
    );
  }
}

const admin = new pg.Client(adminUrl());
await admin.connect();
const commits = async () =>
  Number((await admin.query("SELECT xact_commit FROM pg_stat_database WHERE datname = $1", [DB])).rows[0].xact_commit);

for (let round = 1; round <= rounds; round++) {
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const base = urlForDatabase(adminUrl(), DB);
  const url = process.env.PROBE_POOL ? `${base}?pool_size=${process.env.PROBE_POOL}` : base;
  const serverArgs = [`--import=${fileURLToPath(new URL("./server-knobs.mjs", import.meta.url))}`];
  if (process.env.PROBE_CPUPROF) serverArgs.push("--cpu-prof", `--cpu-prof-dir=${process.env.PROBE_CPUPROF}`);
  const dir = mkdtempSync(join(tmpdir(), "zart-probe-intake-"));
  const target = sqlite ? ({ kind: "sqlite", path: join(dir, "z.db") } as const) : ({ kind: "postgres", url, database: DB } as const);
  const server = await startZartServer(target, mode === "worker", 50, serverArgs);
  try {
    const body = JSON.stringify({ task: "bench-w0", data: { i: 1 } });
    if (process.env.PROBE_STATEMENTS) {
      await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      await admin.query("SELECT pg_stat_statements_reset()");
    }
    const c0 = await commits();
    const server0 = processCpuMs(server.pid);
    const user0 = processCpuMs(server.pid, "user");
    const calls0 = syscalls(server.pid);
    const idle0 = machineIdleMs();
    const self0 = process.cpuUsage();
    const pg0 = postgresCpuMs();
    const record = await load(
      {
        target: "probe",
        label: mode,
        route: "POST /executions",
        url: `${server.url}/api/v1/executions`,
        method: "POST",
        body,
        connections: 50,
        durationS: seconds,
      },
      round,
    );
    const requests = record.requestsPerSecond * seconds;
    const serverMs = processCpuMs(server.pid) - server0;
    const userMs = processCpuMs(server.pid, "user") - user0;
    const calls = syscalls(server.pid) - calls0;
    const idleMs = machineIdleMs() - idle0;
    const self = process.cpuUsage(self0);
    const loadMs = (self.user + self.system) / 1000;
    const pgMs = postgresCpuMs() - pg0;
    const tx = (await commits()) - c0;
    console.log(
      JSON.stringify({
        mode,
        store: sqlite ? "sqlite" : "postgres",
        inserts: process.env.PROBE_INSERTS ?? "end of turn",
        round,
        reqPerS: Math.round(record.requestsPerSecond),
        p50: record.p50Ms,
        non2xx: record.non2xx,
        serverCpuMsPerReq: +(serverMs / requests).toFixed(3),
        serverUserMsPerReq: +(userMs / requests).toFixed(3),
        serverSyscallsPerReq: +(calls / requests).toFixed(2),
        postgresCpuMsPerReq: +(pgMs / requests).toFixed(3),
        serverCpuShare: +(serverMs / (seconds * 1000)).toFixed(2),
        postgresCpuShare: +(pgMs / (seconds * 1000)).toFixed(2),
        loadGeneratorCpuShare: +(loadMs / (seconds * 1000)).toFixed(2),
        machineIdleShare: +(idleMs / (seconds * 1000)).toFixed(2),
        txPerReq: +(tx / requests).toFixed(3),
      }),
    );
    if (process.env.PROBE_STATEMENTS) await printStatements(requests);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();
