/**
 * A concurrency limit holds across worker processes on one PostgreSQL: three workers, a task limited to
 * two at once, forty executions. The steps log their starts and ends to one file; replaying it, never more
 * than two ran at once, and all forty ran. The workers' safety poll is an hour: freed slots reach the
 * waiting executions through notices, not polling.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../src/core/logger.js";
import { Engine } from "../src/engine/engine.js";
import { adminQuery, TestSchema } from "./support/postgres.js";
import { databaseUrl, killAll, startWorker, writeConfig, type ZartProcess } from "./support/processes.js";

const schema = new TestSchema("limit");
const dir = mkdtempSync(join(tmpdir(), "zart-pg-limit-"));
after(async () => {
  await schema.drop();
  rmSync(dir, { recursive: true, force: true });
});

test("three worker processes never run more than the limit at once", async () => {
  const effects = join(dir, "effects.log");
  writeFileSync(effects, "");
  const store = await schema.open();
  const config = writeConfig(dir, "workers.json", { worker: { safetyPoll: "1h", concurrency: 4 } });
  const workers: ZartProcess[] = [];
  const api = await Engine.start({ store, tasks: [], logger: silentLogger, worker: false });
  try {
    for (let i = 0; i < 3; i++) {
      workers.push(
        await startWorker({
          database: databaseUrl(schema.name, 3),
          tasks: ["test/fixtures/limited-tasks.ts"],
          config,
          env: { ZART_EFFECTS_FILE: effects },
          label: `worker ${i}`,
        }),
      );
    }
    const ids = await Promise.all(
      Array.from({ length: 40 }, async (_, n) => (await api.schedule({ task: "limited", data: { n } })).execution.id),
    );
    for (const id of ids) assert.equal((await api.waitForTerminal(id, 60_000)).status, "completed", id);
    let now = 0;
    let peak = 0;
    const started = new Set<string>();
    for (const line of readFileSync(effects, "utf8").split("\n").filter(Boolean)) {
      const [what, n] = line.split(" ");
      now += what === "start" ? 1 : -1;
      if (what === "start") started.add(n as string);
      peak = Math.max(peak, now);
    }
    assert.equal(started.size, 40, "every execution ran");
    assert.ok(peak <= 2, `at most two at once, saw ${peak}`);
    assert.equal(peak, 2, "and the limit was used");
    const pids = new Set(
      readFileSync(effects, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ")[2]),
    );
    assert.ok(pids.size >= 2, "more than one worker took part");
    for (const worker of workers) assert.equal((await worker.stop()).code, 0);
  } finally {
    await killAll(workers);
    await api.stop();
    await store.close();
  }
});

test("a row left waiting beside a free slot (its hand-on lost with a connection) is granted by a later claim's sweep", async () => {
  const store = await schema.open();
  try {
    const now = Date.now();
    const id = `exec-${now.toString(36).padStart(9, "0")}sweep0000000000001`;
    await store.createExecution({ id, task: "swept", dataJson: "{}", idempotencyKey: null, now, concurrency: { key: "k", limit: 1 } });
    // As a claim leaves a row it parked for want of a slot (`await_slot`), with nobody running in its group.
    await adminQuery(`UPDATE ${schema.name}.executions SET runnable_at = NULL WHERE id = $1`, [id]);
    const first = await store.claim({ workerId: "w", tasks: ["swept"], limit: 5, now: now + 1, leaseMs: 30_000 });
    assert.deepEqual(first.claimed, [], "not due while it waits for a slot");
    const due = await store.getExecution(id);
    assert.equal(due?.runnableAt, now, "the claim's sweep granted the free slot (due at its creation: its place in the queue)");
    const second = await store.claim({ workerId: "w", tasks: ["swept"], limit: 5, now: now + 2, leaseMs: 30_000 });
    assert.deepEqual(
      second.claimed.map((c) => c.execution.id),
      [id],
    );
  } finally {
    await store.close();
  }
});
