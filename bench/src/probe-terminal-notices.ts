/**
 * Probe behind docs/decisions/011-packed-terminal-notices.md (not part of the benchmark tables): N terminal
 * notices, published the way a worker publishes them (the store's NoticePublisher, one `publish` per flush
 * of 100 completions) to a LISTEN session in the same process that decodes them (decodeNotices), packed as
 * shipped vs one NOTIFY payload per notice, alternating. Prints per run the time until the listener has
 * decoded every notice, the notifications it received, and the process's CPU per notice.
 *
 *   npx tsx src/probe-terminal-notices.ts [N, default 20000] [rounds, default 3]
 */
import pg from "pg";
import { silentLogger } from "../../dist/core/logger.js";
import { decodeNotices } from "../../dist/store/postgres/notice-payload.js";
import { NoticePublisher } from "../../dist/store/postgres/publisher.js";
import type { Notice } from "../../dist/store/store.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const [n = "20000", r = "3"] = process.argv.slice(2);
const total = Number(n);
const rounds = Number(r);
const FLUSH = 100;
const DB = probeDatabase("zbench_probe_terminal");
const CHANNEL = "probe_terminal";

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const url = urlForDatabase(adminUrl(), DB);
const pool = new pg.Pool({ connectionString: url, max: 4 });
pool.on("error", () => {});
const listener = new pg.Client(url);
listener.on("error", () => {});
await listener.connect();
let decoded = 0;
let notifications = 0;
let allDecoded: () => void = () => {};
listener.on("notification", (message) => {
  notifications++;
  decoded += decodeNotices(message.payload ?? "").length;
  if (decoded >= total) allDecoded();
});
await listener.query(`LISTEN ${CHANNEL}`);
const publisher = new NoticePublisher(pool, CHANNEL, silentLogger);

async function run(mode: "packed" | "unpacked", round: number): Promise<void> {
  decoded = 0;
  notifications = 0;
  const done = new Promise<void>((resolve) => {
    allDecoded = resolve;
  });
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let from = 0; from < total; from += FLUSH) {
    const notices: Notice[] = [];
    for (let k = from; k < Math.min(total, from + FLUSH); k++) {
      notices.push({ kind: "terminal", executionId: `exec-${round}${mode[0]}${String(k).padStart(20, "0")}`, status: "completed" });
    }
    if (mode === "packed") publisher.publish(notices);
    else for (const notice of notices) publisher.publish([notice]);
    // A worker's flushes are a commit apart: let the publisher send between them.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await publisher.flush();
  await done;
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      round,
      mode,
      notices: total,
      notifications,
      ms: Math.round(ms),
      cpuUsPerNotice: +((cpu.user + cpu.system) / total).toFixed(1),
    }),
  );
}

await run("packed", -1); // warm-up
for (let round = 0; round < rounds; round++) {
  await run("packed", round);
  await run("unpacked", round);
}
await listener.end();
await pool.end();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();
