/**
 * A separate process working on a shared SQLite file, for the multi-process tests in store-sqlite.test.ts.
 * Modes:
 *   migrate <db>                 open and migrate (several at once test migration locking), print "migrated"
 *   claim <db> <worker>          print "ready", wait for a line on stdin, then claim in a loop until nothing is
 *                                left, completing each execution; print one line per claimed id
 *   create <db>                  create executions forever, printing each id once its commit returned
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

const [mode, path, worker = "child"] = process.argv.slice(2);
if (!mode || !path) throw new Error("usage: sqlite-child.ts <mode> <db> [worker]");

/** Fixed "now": far after every row's runnable_at, so all rows are due; a lease so long none expires. */
const NOW = 1_767_225_600_000 + 60_000;
const LEASE_MS = 3_600_000;

const store = await SqliteStore.open({ path });

async function claimLoop(): Promise<void> {
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  for (;;) {
    const { claimed } = await store.claim({ workerId: worker, tasks: ["multi"], limit: 3, now: NOW, leaseMs: LEASE_MS });
    if (claimed.length === 0) return;
    // Completing adds a second write transaction per claim, so the processes contend for the lock harder.
    await store.applyCheckpoints(
      claimed.map((c) => ({
        fence: { executionId: c.execution.id, leaseToken: c.execution.leaseToken },
        owner: { task: "multi", parentId: null, parentStep: null, concurrencyKey: null, concurrencyLimit: null },
        now: NOW,
        patch: { transition: "complete" as const, outputJson: JSON.stringify(worker) },
        stepsCompleted: 0,
        crashes: 0,
      })),
    );
    process.stdout.write(claimed.map((c) => `claimed ${c.execution.id}\n`).join(""));
  }
}

async function createForever(): Promise<void> {
  for (let i = 0; ; i++) {
    const id = `exec-${randomBytes(8).toString("hex")}`;
    await store.createExecution({ id, task: "durable", dataJson: `{"i":${i}}`, idempotencyKey: null, now: NOW + i });
    // Printed only after createExecution returned, i.e. after its COMMIT.
    process.stdout.write(`created ${id}\n`);
  }
}

if (mode === "migrate") {
  await store.migrate();
  process.stdout.write("migrated\n");
} else if (mode === "claim") {
  await claimLoop();
} else if (mode === "create") {
  await createForever();
} else {
  throw new Error(`unknown mode ${mode}`);
}
await store.close();
process.stdin.destroy();
