/**
 * Several processes on one SQLite file, which has no notification channel between processes: what one
 * commits reaches the others through their watch of the file's data version, within milliseconds, not
 * at the safety poll (set to one hour here, so finishing at all proves it). A cancel reaches the step
 * running in another process as a cancel (not as a lost lease at the next renewal); sleeps scheduled by
 * one process wake in the worker process on time.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { killAll, startWorker, writeConfig, type ZartProcess } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "zart-xproc-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const TASKS = ["test/fixtures/cross-process-tasks.ts"];
const config = writeConfig(dir, "no-poll.json", { worker: { safetyPoll: "1h", leaseTime: "30s" } });

async function apiEngine(database: string) {
  const store = await openStore(database);
  await store.migrate();
  await store.registerTasks(
    "test",
    ["hold", "nap"].map((name) => ({ name, inputSchemaJson: null, options: {} })),
    Date.now(),
  );
  const engine = await Engine.start({ store, tasks: [], worker: false, logger: silentLogger });
  return { store, engine };
}

test("a cancel in one process reaches the step running in another as a cancel", async () => {
  const database = join(dir, "cancel.db");
  const { store, engine } = await apiEngine(database);
  let worker: ZartProcess | null = null;
  try {
    worker = await startWorker({ database, tasks: TASKS, config });
    const { execution } = await engine.schedule({ task: "hold", data: {} });
    await worker.waitForLine((line) => line === `holding ${execution.id}`, "the step to start", 20_000);
    await engine.cancel(execution.id);
    const line = await worker.waitForLine((l) => l.startsWith(`aborted ${execution.id}`), "the step to be told", 20_000);
    assert.equal(line, `aborted ${execution.id} cancelled`, "told it was cancelled, not that its lease was lost");
    assert.equal((await engine.get(execution.id)).status, "cancelled");
    assert.equal((await worker.stop()).code, 0);
  } finally {
    await killAll([worker]);
    await engine.stop();
    await store.close();
  }
});

test("sleeps scheduled by one process wake in the worker process, without the safety poll", async () => {
  const database = join(dir, "sleeps.db");
  const { store, engine } = await apiEngine(database);
  let worker: ZartProcess | null = null;
  try {
    worker = await startWorker({ database, tasks: TASKS, config });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await engine.schedule({ task: "nap", data: { ms: 100 + i * 20 } })).execution.id);
    for (const id of ids) assert.equal((await engine.waitForTerminal(id, 30_000)).status, "completed", id);
    assert.equal((await worker.stop()).code, 0);
  } finally {
    await killAll([worker]);
    await engine.stop();
    await store.close();
  }
});
