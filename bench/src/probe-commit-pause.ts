/**
 * Probe behind the benchmark's caveat on idle virtual CPUs (not part of the tables): one single-row INSERT
 * per transaction from this process, each after a pause, p50 and p90.
 *
 *   npx tsx src/probe-commit-pause.ts [pause ms, 0 = back to back] [samples]
 *   PROBE_PM_QOS=1   hold /dev/cpu_dma_latency at 0 meanwhile (root only): the CPUs then never enter a
 *                    halting idle state, as under tuned's latency-performance profile
 */
import { closeSync, openSync, writeSync } from "node:fs";
import pg from "pg";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { sleep } from "./util.js";

const [pauseArg = "5", samplesArg = "300"] = process.argv.slice(2);
const pause = Number(pauseArg);
const samples = Number(samplesArg);
const DB = "zbench_probe_pause";

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const client = new pg.Client(urlForDatabase(adminUrl(), DB));
await client.connect();
await client.query("CREATE TABLE probe (id bigserial PRIMARY KEY, v integer NOT NULL)");

let qos: number | null = null;
if (process.env.PROBE_PM_QOS) {
  qos = openSync("/dev/cpu_dma_latency", "w");
  writeSync(qos, Buffer.from(new Int32Array([0]).buffer));
}
const times: number[] = [];
for (let i = 0; i < samples; i++) {
  if (pause > 0) await sleep(pause);
  const before = performance.now();
  await client.query({ name: "probe", text: "INSERT INTO probe (v) VALUES ($1)", values: [i] });
  times.push(performance.now() - before);
}
if (qos !== null) closeSync(qos);
times.sort((a, b) => a - b);
const at = (q: number) => (times[Math.floor(times.length * q)] ?? Number.NaN).toFixed(3);
console.log(`pause ${pause} ms${qos !== null ? ", cpu_dma_latency 0" : ""}: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms over ${samples}`);
await client.end();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();
