/**
 * Probe behind docs/decisions/006-notify-after-commit.md (not part of the benchmark tables): 20 concurrent
 * clients each commit single-row INSERTs, N in all, with a LISTEN session attached, in three ways,
 * alternating round by round:
 *
 * - none:          the INSERT alone;
 * - in-tx:         the INSERT and a `pg_notify` in the same statement (what a trigger would do): every
 *                  such commit takes PostgreSQL's notify queue lock through its WAL flush;
 * - after-commit:  the INSERT, then the store's NoticePublisher (src/store/postgres/publisher.ts) sends the
 *                  notice on its own connection after the commit, coalescing what queues meanwhile.
 *
 * Prints one JSON line per mode and round (inserts/s) and the medians.
 *
 *   npx tsx src/probe-notify.ts [N per round, default 3000] [rounds, default 3] [clients, default 20]
 */
import pg from "pg";
import { silentLogger } from "../../dist/core/logger.js";
import { NoticePublisher } from "../../dist/store/postgres/publisher.js";
import { adminUrl, urlForDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const [n = "3000", r = "3", c = "20"] = process.argv.slice(2);
const total = Number(n);
const rounds = Number(r);
const clients = Number(c);
const DB = probeDatabase("zbench_probe_notify");
const CHANNEL = "probe_notify";

const admin = new pg.Client(adminUrl());
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${DB}`);
const url = urlForDatabase(adminUrl(), DB);
const pool = new pg.Pool({ connectionString: url, max: clients + 1 });
await pool.query("CREATE TABLE probe (id bigserial PRIMARY KEY, v integer NOT NULL)");
// DROP DATABASE … WITH (FORCE) at the end may still find sessions that are closing.
pool.on("error", () => {});
const listener = new pg.Client(url);
listener.on("error", () => {});
await listener.connect();
await listener.query(`LISTEN ${CHANNEL}`);
const publisher = new NoticePublisher(pool, CHANNEL, silentLogger);

type Mode = "none" | "in-tx" | "after-commit";
async function run(mode: Mode): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = await pool.connect();
      try {
        while (next < total) {
          const i = next++;
          if (mode === "in-tx") {
            await client.query({
              name: "in_tx",
              text: `WITH i AS (INSERT INTO probe (v) VALUES ($1) RETURNING id) SELECT pg_notify('${CHANNEL}', 'r|t|' || id) FROM i`,
              values: [i],
            });
          } else {
            await client.query({ name: "plain", text: "INSERT INTO probe (v) VALUES ($1)", values: [i] });
            if (mode === "after-commit") publisher.publish([{ kind: "runnable", task: "t", at: i }]);
          }
        }
      } finally {
        client.release();
      }
    }),
  );
  await publisher.flush();
  return Math.round(total / ((performance.now() - started) / 1000));
}

const modes: Mode[] = ["none", "in-tx", "after-commit"];
const results: Record<Mode, number[]> = { none: [], "in-tx": [], "after-commit": [] };
await run("none"); // warm-up: connections, prepared statements
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    const perSecond = await run(mode);
    results[mode].push(perSecond);
    console.log(JSON.stringify({ round, mode, clients, n: total, insertsPerSecond: perSecond }));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ median: Object.fromEntries(modes.map((m) => [m, median(results[m])])) }));
await listener.end();
await pool.end();
await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
await admin.end();
