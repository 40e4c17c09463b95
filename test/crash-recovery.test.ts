/**
 * Real processes, real SIGKILL. A worker process is killed many times while steps are in flight; a
 * new worker finishes every execution. Checked: every step recorded before a kill never ran again,
 * every execution acknowledged (scheduled) completes with the right output.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";

const WORKER = new URL("./fixtures/crash-worker.ts", import.meta.url).pathname;
const KILLS = 8;

function startWorker(database: string, effects: string, generation: number): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, database, effects, String(generation)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

/** Reads stdout lines until `count` step starts were seen (the kill then lands mid-step). */
async function waitForStarts(lines: AsyncIterator<string>, count: number): Promise<void> {
  let seen = 0;
  while (seen < count) {
    const next = await lines.next();
    if (next.done) throw new Error("worker exited early");
    if (next.value.startsWith("start ")) seen += 1;
  }
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

async function recordedSteps(store: Store, ids: string[]): Promise<Set<string>> {
  const recorded = new Set<string>();
  for (const id of ids) {
    for (const step of (await store.getStepDetail(id)).steps) if (step.state === "completed") recorded.add(`${id} ${step.name}`);
  }
  return recorded;
}

test("SIGKILL mid-step, many times: recorded steps never re-run and nothing acknowledged is lost", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-crash-"));
  const database = join(dir, "zart.db");
  const effects = join(dir, "effects.log");
  writeFileSync(effects, "");
  const store = await openStore(database);
  // API-only engine in the test process: it schedules (acknowledges) work while workers crash.
  const api = await Engine.start({ store, worker: false, tasks: [] });
  await store.registerTasks("test", [{ name: "crashy", inputSchemaJson: null, options: {} }], Date.now());
  const ids: string[] = [];
  const schedule = async (count: number) => {
    for (let i = 0; i < count; i++) ids.push((await api.schedule({ task: "crashy", data: { n: ids.length } })).execution.id);
  };
  try {
    await schedule(40);
    const recordedBeforeKill: Array<Set<string>> = [];
    for (let generation = 0; generation < KILLS; generation++) {
      const { child, lines } = startWorker(database, effects, generation);
      await waitForStarts(lines, 5 + generation * 7);
      await killHard(child);
      recordedBeforeKill.push(await recordedSteps(store, ids));
      await schedule(5);
    }
    const final = startWorker(database, effects, KILLS);
    for (const id of ids) {
      const done = await api.waitForTerminal(id, 60_000);
      assert.equal(done.status, "completed", `${id} completed`);
    }
    final.child.kill("SIGTERM");
    await new Promise((resolve) => final.child.once("exit", resolve));

    const runs = readFileSync(effects, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string, string]);
    for (const [k, recorded] of recordedBeforeKill.entries()) {
      for (const [generation, id, step] of runs) {
        if (Number(generation) > k)
          assert.ok(
            !recorded.has(`${id} ${step}`),
            `${id} ${step} was recorded before kill ${k} but ran again in generation ${generation}`,
          );
      }
    }
    for (const [index, id] of ids.entries()) {
      const execution = await api.get(id);
      assert.deepEqual(JSON.parse(execution.outputJson ?? "null"), { total: index + 5 }, `${id} output`);
      assert.equal(execution.stepsCompleted, 5);
      const stepRuns = runs.filter(([, runId]) => runId === id);
      for (const step of ["s1", "s2", "s3", "s4", "s5"])
        assert.ok(
          stepRuns.some(([, , s]) => s === step),
          `${id} ${step} ran`,
        );
    }
    const reruns = runs.length - ids.length * 5;
    assert.ok(reruns <= KILLS * 8, `at most the steps in flight at each kill re-ran (${reruns})`);
    assert.ok(recordedBeforeKill.at(-1)!.size > 0, "kills happened after some steps were recorded");
  } finally {
    await api.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
