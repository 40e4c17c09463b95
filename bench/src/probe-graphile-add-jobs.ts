/**
 * Probe for issue 19's `scheduleMany` figure (not part of the benchmark tables): graphile-worker's `addJobs`
 * in batches of B, into a fresh database, one batch at a time, as probe-pg-schedule-many.ts times Zart's
 * `scheduleMany`, so the two can be alternated batch by batch. `makeWorkerUtils` migrates before the first
 * batch (as the benchmark's enqueue cell has it). Prints each batch's milliseconds when PROBE_COLD=1, then
 * jobs per second.
 *
 *   npx tsx src/probe-graphile-add-jobs.ts [N] [B]      PROBE_DB names the database (default zbench_probe_jobs)
 *   PROBE_COLD=1   no warm-up batch; prints each batch's milliseconds
 *   PROBE_WAL=1    with PROBE_COLD, also each batch's WAL in kB (read between batches, outside the timing)
 */
import { makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import { adminUrl, freshProbeDatabase, walMeter } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const [n = "10000", b = "1000"] = process.argv.slice(2);
const total = Number(n);
const batch = Number(b);
const db = await freshProbeDatabase(probeDatabase("zbench_probe_jobs"));
const utils = await makeWorkerUtils({ connectionString: db.url });
await utils.migrate();
const cold = process.env.PROBE_COLD === "1";
const specs = (start: number) =>
  Array.from({ length: Math.min(batch, total - start) }, (_, k) => ({ identifier: "bench-w0", payload: { i: start + k } }));
if (!cold) await utils.addJobs(specs(-batch));
const walClient = process.env.PROBE_WAL === "1" ? new pg.Client(adminUrl()) : null;
await walClient?.connect();
const walKb = walClient === null ? null : walMeter(walClient);
let ms = 0;
for (let start = 0; start < total; start += batch) {
  await walKb?.start();
  const started = performance.now();
  await utils.addJobs(specs(start));
  const took = performance.now() - started;
  ms += took;
  const wal = walKb === null ? "" : ` wal ${await walKb.since()}kB`;
  if (cold) console.log(`${took.toFixed(1)}${wal}`);
}
console.log(
  JSON.stringify({ n: total, batch, perSecond: Math.round((total / ms) * 1000), msPerBatch: +((ms * batch) / total).toFixed(2) }),
);
await utils.release();
await walClient?.end();
await db.drop();
