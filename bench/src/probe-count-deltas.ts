/**
 * Probe behind docs/decisions/004-counts-by-statement.md (not part of the benchmark tables): what keeping
 * status counts costs the two status changes of every W0 execution, a claim and a completion, through the
 * store (`claim`, then `applyCheckpoints` with one completion per claimed row), in batches of B, on a table
 * of 50,000 other rows. Three ways, switched by enabling triggers between rounds, alternating:
 *
 * - statements:  as shipped, each status-changing statement inserts its count deltas itself;
 * - row trigger: those deltas dropped (a BEFORE INSERT trigger on count_deltas) and a row-level AFTER UPDATE
 *                trigger writing two delta rows per status change instead, as the schema once did;
 * - none:        the deltas dropped and no trigger (what counting costs at all).
 *
 * Prints per mode the median µs per execution (claim + completion, wall time of the two calls / B).
 *
 *   npx tsx src/probe-count-deltas.ts [rounds per mode, default 60] [batch, default 50]
 */
import pg from "pg";
import { openStore } from "../../dist/store/open-store.js";
import type { Checkpoint } from "../../dist/store/store.js";
import { freshProbeDatabase } from "./pg-admin.js";
import { probeDatabase } from "./probe-knobs.js";

const rounds = Number(process.argv[2] ?? 60);
const size = Number(process.argv[3] ?? 50);
const database = await freshProbeDatabase(probeDatabase("zbench_probe_counts"));
const url = database.url;
const store = await openStore(url, { schema: "zart" });
await store.migrate();
const db = new pg.Client(url);
db.on("error", () => {});
await db.connect();
await db.query(
  "INSERT INTO zart.executions (id, task, status, data, created_at, updated_at) SELECT 'x' || g, 'other', 'completed', '{}', 1, 1 FROM generate_series(1, 50000) g",
);
await db.query(`
CREATE TABLE zart.row_deltas (task text NOT NULL, status text NOT NULL, delta integer NOT NULL);
CREATE FUNCTION zart.drop_delta() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER count_deltas_dropped BEFORE INSERT ON zart.count_deltas FOR EACH ROW EXECUTE FUNCTION zart.drop_delta();
CREATE FUNCTION zart.count_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO zart.row_deltas (task, status, delta) VALUES (OLD.task, OLD.status, -1), (NEW.task, NEW.status, 1);
  RETURN NULL;
END $$;
CREATE TRIGGER executions_count_update AFTER UPDATE ON zart.executions
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.task IS DISTINCT FROM NEW.task)
  EXECUTE FUNCTION zart.count_status_change();
ALTER TABLE zart.count_deltas DISABLE TRIGGER count_deltas_dropped;
ALTER TABLE zart.executions DISABLE TRIGGER executions_count_update;`);
await db.query("VACUUM ANALYZE");

type Mode = "statements" | "row trigger" | "none";
async function setMode(mode: Mode): Promise<void> {
  const drop = mode === "statements" ? "DISABLE" : "ENABLE";
  const row = mode === "row trigger" ? "ENABLE" : "DISABLE";
  await db.query(`ALTER TABLE zart.count_deltas ${drop} TRIGGER count_deltas_dropped`);
  await db.query(`ALTER TABLE zart.executions ${row} TRIGGER executions_count_update`);
}

let made = 0;
/** Creates `n` executions, then times claiming them and completing them in one batch: ms. */
async function claimAndComplete(n: number): Promise<number> {
  const now = Date.now();
  await store.createExecutions(
    Array.from({ length: n }, () => ({
      id: `exec-p${String(made++).padStart(12, "0")}`,
      task: "t",
      dataJson: "{}",
      idempotencyKey: null,
      now,
    })),
  );
  const started = performance.now();
  const { claimed } = await store.claim({ workerId: "probe", tasks: ["t"], limit: n, now, leaseMs: 60_000 });
  const batch: Checkpoint[] = claimed.map(({ execution }) => ({
    fence: { executionId: execution.id, leaseToken: execution.leaseToken },
    owner: { task: "t", parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null },
    now,
    patch: { transition: "complete", outputJson: "1" },
    stepsCompleted: 0,
    crashes: 0,
  }));
  const applied = await store.applyCheckpoints(batch);
  const ms = performance.now() - started;
  if (claimed.length !== n || applied.some((ok) => !ok)) throw new Error(`claimed ${claimed.length} of ${n}, or a completion was refused`);
  return ms;
}

const modes: Mode[] = ["statements", "row trigger", "none"];
const times: Record<Mode, number[]> = { statements: [], "row trigger": [], none: [] };
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    await setMode(mode);
    await claimAndComplete(1); // statements re-planned after the DDL, untimed
    times[mode].push(((await claimAndComplete(size)) * 1000) / size);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
for (const mode of modes) {
  console.log(JSON.stringify({ mode, rounds, batch: size, medianUsPerExecution: Math.round(median(times[mode])) }));
}
const rowDeltas = Number((await db.query("SELECT count(*) AS n FROM zart.row_deltas")).rows[0].n);
console.log(JSON.stringify({ rowTriggerDeltaRows: rowDeltas, expected: rounds * (size + 1) * 4 }));
await db.end();
await store.close();
await database.drop();
