/**
 * Crashes that repeat. A step that kills its worker every time is not retried without end: each crash is
 * counted against it, and once they are exhausted the execution fails with `worker_crashed` and says how
 * often; the executions that shared its worker are not failed with it. Task code that leaks a rejection
 * or throws from a timer kills neither the worker nor the other executions on it. Real worker processes
 * on one SQLite file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import { killAll, startWorker, writeConfig, type ZartProcess } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "zart-poison-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const TASKS = ["test/fixtures/poison-tasks.ts"];

test("a step that kills its worker every time fails the execution with worker_crashed after a bounded number of crashes", async () => {
  const database = join(dir, "poison.db");
  // A short lease, so each crash is noticed quickly; the safety poll finds the expired lease.
  const config = writeConfig(dir, "poison.json", { worker: { leaseTime: 400, safetyPoll: 100, concurrency: 2 } });
  const store = await openStore(database);
  const api = await Engine.start({ store, tasks: [], worker: false });
  await store.registerTasks("test", [{ name: "poison", inputSchemaJson: null, options: {} }], Date.now());
  const { execution } = await api.schedule({ task: "poison", data: {} });
  let runs = 0;
  let worker: ZartProcess | null = null;
  try {
    for (; runs < 20; runs++) {
      const current = await api.get(execution.id);
      if (current.status === "failed") break;
      worker = await startWorker({ database, tasks: TASKS, config, label: `worker ${runs}` });
      const ended = await Promise.race([
        worker.exited.then(() => "crashed" as const),
        api.waitForTerminal(execution.id, 60_000).then(() => "ended" as const),
      ]);
      if (runs > 0) {
        // The quiet time while a dead worker's lease ran out is explained in the next worker's log.
        const line = await worker.waitForLine((l) => l.includes("after its lease expired"), "the resume warning", 30_000);
        assert.ok(line.includes(execution.id) && line.includes('"level":40'), line);
      }
      if (ended === "ended") break;
      assert.equal((await worker.exited).code, 7, "the step's process.exit(7) ended the worker");
    }
    const done = await api.waitForTerminal(execution.id, 60_000);
    await worker?.stop();
    assert.equal(done.status, "failed");
    assert.equal(done.error?.code, "worker_crashed");
    assert.match(done.error?.message ?? "", /crashed its worker 5 time\(s\)/);
    assert.ok(runs >= 5 && runs <= 8, `crashed runs ${runs}: bounded, at least the crash budget`);
    const detail = await api.stepDetail(execution.id);
    const explode = detail.steps.find((s) => s.name === "explode");
    assert.deepEqual([explode?.state, explode?.error?.code], ["failed", "worker_crashed"]);
    assert.equal(detail.attempts.filter((a) => a.step === "explode" && a.error.code === "worker_crashed").length, 5);
    assert.equal(detail.steps.find((s) => s.name === "before")?.state, "completed", "the step before it ran once and stays recorded");
  } finally {
    await killAll([worker]);
    await api.stop();
    await store.close();
  }
});

test("executions that share a worker with a poison step are not failed with it: a repeat suspect runs alone", async () => {
  const database = join(dir, "bystanders.db");
  const config = writeConfig(dir, "bystanders.json", { worker: { leaseTime: 400, safetyPoll: 100, concurrency: 10 } });
  const store = await openStore(database);
  const api = await Engine.start({ store, tasks: [], worker: false });
  const names = ["poison", "bystander"];
  await store.registerTasks(
    "test",
    names.map((name) => ({ name, inputSchemaJson: null, options: {} })),
    Date.now(),
  );
  // All scheduled before the first worker starts: its first claim takes them together.
  const poison = (await api.schedule({ task: "poison", data: {} })).execution.id;
  const bystanders: string[] = [];
  for (let n = 0; n < 4; n++) bystanders.push((await api.schedule({ task: "bystander", data: { n } })).execution.id);
  let worker: ZartProcess | null = null;
  let crashes = 0;
  try {
    for (let runs = 0; runs < 20; runs++) {
      worker = await startWorker({ database, tasks: TASKS, config, label: `worker ${runs}` });
      const ended = await Promise.race([
        worker.exited.then(() => "crashed" as const),
        Promise.all([poison, ...bystanders].map((id) => api.waitForTerminal(id, 60_000))).then(() => "ended" as const),
      ]);
      if (ended === "ended") break;
      crashes += 1;
      if (crashes === 1) {
        // The first crash caught every bystander in the middle of its step, beside the poison step.
        const started = worker.lines.filter((line) => line.startsWith("work ")).length;
        assert.equal(started, bystanders.length, worker.tail());
      }
    }
    await worker?.stop();
    const failed = await api.get(poison);
    assert.deepEqual([failed.status, failed.error?.code], ["failed", "worker_crashed"]);
    for (const [n, id] of bystanders.entries()) {
      const done = await api.get(id);
      assert.equal(done.status, "completed", `bystander ${n}: ${JSON.stringify(done.error)}`);
      assert.equal(JSON.parse(done.outputJson ?? "null"), n);
      const charged = (await api.stepDetail(id)).attempts.filter((a) => a.error.code === "worker_crashed").length;
      // At most the crashes it shared with the poison step before either became a suspect.
      assert.ok(charged >= 1 && charged <= 2, `bystander ${n} was charged ${charged} crash(es)`);
    }
    assert.ok(crashes >= 5, `the poison step crashed its worker ${crashes} times`);
  } finally {
    await killAll([worker]);
    await api.stop();
    await store.close();
  }
});

test("a leaked rejection and a throw from a timer in task code kill neither the worker nor other executions", async () => {
  const database = join(dir, "sloppy.db");
  const store = await openStore(database);
  const api = await Engine.start({ store, tasks: [], worker: false });
  const worker = await startWorker({ database, tasks: TASKS, logLevel: "error" });
  try {
    const ids = [];
    for (let n = 1; n <= 5; n++) ids.push((await api.schedule({ task: "sloppy", data: { n } })).execution.id);
    for (const [i, id] of ids.entries()) {
      const done = await api.waitForTerminal(id, 60_000);
      assert.equal(done.status, "completed", `execution ${i + 1}`);
      assert.equal(JSON.parse(done.outputJson ?? "null"), (i + 1) * 2);
    }
    assert.equal(worker.running, true, "the worker is still alive");
    const exit = await worker.stop();
    assert.equal(exit.code, 0);
  } finally {
    await killAll([worker]);
    await api.stop();
    await store.close();
  }
});
