/**
 * SIGKILL during writes, several processes on one SQLite file: an API-only server and three worker
 * processes share the file while `chain` executions are posted and run (at least 600, and until the
 * kills are done); five times a worker is
 * SIGKILLed in the middle of the work (after a number of its step starts, while all three write) and a
 * replacement starts. Checked: every acknowledged execution completes with the right output; no step
 * recorded when a kill landed runs again (the step bodies' side-effect log); at most the steps in flight
 * in the killed workers ran twice; the rows equal the acknowledged executions; the file passes SQLite's
 * integrity check afterwards; every process still running exits 0.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { inParallel, killAll, request, startApiServer, startWorker, writeConfig, type ZartProcess } from "./support/processes.js";
import { assertIntactWith, completedSteps } from "./support/sqlite-file.js";

const EXECUTIONS = 600;
const MAX_EXECUTIONS = 20_000;
const IN_FLIGHT = 10;
const KILLS = 5;
const STARTS_BEFORE_KILL = 60;
const WORKER_CONCURRENCY = 20;
const TASKS = "test/fixtures/mp-tasks.ts";

test("SQLite, API server + 3 workers on one file: 5 SIGKILLs during writes lose nothing and re-run no recorded step", {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-sqlite-kill-"));
  const database = join(dir, "zart.db");
  const effects = join(dir, "effects.log");
  writeFileSync(effects, "");
  // A short lease, so a killed worker's executions are taken over within seconds.
  const config = writeConfig(dir, "worker.json", { worker: { leaseTime: "3s", concurrency: WORKER_CONCURRENCY } });
  const processes: ZartProcess[] = [];
  const startChainWorker = async (label: string) => {
    const worker = await startWorker({ database, tasks: [TASKS], config, env: { ZART_EFFECTS_FILE: effects }, label });
    processes.push(worker);
    return worker;
  };
  try {
    const api = await startApiServer({ database, tasks: [TASKS], label: "api" });
    processes.push(api);
    const workers = await Promise.all(["worker-1", "worker-2", "worker-3"].map(startChainWorker));
    const executions = `${api.url}/api/v1/executions`;

    // Posting goes on until the kills are done (at least EXECUTIONS in all), so every kill lands while
    // all the workers write, however fast this machine drains the work.
    const ids: string[] = [];
    let killsDone = false;
    const scheduling = inParallel([...Array(IN_FLIGHT).keys()], IN_FLIGHT, async () => {
      while (!killsDone || ids.length < EXECUTIONS) {
        assert.ok(ids.length < MAX_EXECUTIONS, `the kills were done within ${MAX_EXECUTIONS} executions`);
        const i = ids.length;
        ids.push("");
        const reply = await request(executions, { json: { task: "chain", data: { i } } });
        assert.equal(reply.status, 201, `schedule ${i}: ${JSON.stringify(reply.body)}`);
        ids[i] = reply.body.execution_id as string;
      }
    });

    // Each kill: the oldest live worker, once it has started STARTS_BEFORE_KILL more steps. Right after
    // it, the steps recorded in the file are read, then the length of the side-effect log: a step recorded
    // at that moment must have no run in the log past that length. (It may have run twice before: a step
    // in flight at an earlier kill runs again elsewhere and is recorded there.)
    const snapshots: Array<{ recorded: Set<string>; logLength: number }> = [];
    const logLines = () => readFileSync(effects, "utf8").split("\n").filter(Boolean);
    const killed: string[] = [];
    const killing = (async () => {
      for (let k = 1; k <= KILLS; k++) {
        const victim = workers.shift()!;
        await victim.waitForLine((line) => line.startsWith("start "), `${STARTS_BEFORE_KILL} step starts`, 120_000, STARTS_BEFORE_KILL);
        await victim.killHard();
        killed.push(String(victim.pid));
        snapshots.push({ recorded: completedSteps(database), logLength: logLines().length });
        workers.push(await startChainWorker(`worker-${k + 3} (replacement)`));
      }
      killsDone = true;
    })();
    await Promise.all([scheduling, killing]);

    await inParallel(ids, IN_FLIGHT, async (id, i) => {
      const done = await request(`${executions}/${id}/wait?timeout=60`, { timeoutMs: 70_000 });
      assert.equal(done.status, 200, `${id} (i=${i}) finished: ${JSON.stringify(done.body)}`);
      assert.equal(done.body.status, "completed", `${id} (i=${i})`);
      assert.equal(done.body.output, (i + 1) * 2 - 1, `${id} (i=${i}) output`);
    });

    const runs = logLines().map((line) => line.split(" ") as [string, string, string]);
    const runCount = new Map<string, number>();
    for (const [, id, step] of runs) runCount.set(`${id} ${step}`, (runCount.get(`${id} ${step}`) ?? 0) + 1);
    assert.equal(snapshots.length, KILLS);
    assert.ok(snapshots[0]!.recorded.size > 0, "steps were recorded before the first kill");
    for (const [k, { recorded, logLength }] of snapshots.entries()) {
      const late = runs.slice(logLength).filter(([, id, step]) => recorded.has(`${id} ${step}`));
      assert.deepEqual(
        late.map((run) => run.join(" ")),
        [],
        `steps recorded at kill ${k + 1} (of ${killed.join(", ")}) ran again after it`,
      );
    }
    for (const id of ids) for (const step of ["a", "b", "c"]) assert.ok(runCount.has(`${id} ${step}`), `${id} ${step} ran`);
    const reruns = runs.length - ids.length * 3;
    assert.ok(reruns >= 0 && reruns <= KILLS * WORKER_CONCURRENCY, `re-runs: ${reruns}`);

    for (const child of processes.filter((p) => p.running)) {
      const exit = await child.stop();
      assert.equal(exit.code, 0, `${child.label} exit code\n${child.tail()}`);
    }
    assertIntactWith(database, ids.length);
  } finally {
    await killAll(processes);
    rmSync(dir, { recursive: true, force: true });
  }
});
