/**
 * Real processes, real SIGKILL. A worker process is killed many times, each time while it is proven to
 * be mid-step (frozen first, then killed only if a step it started is not recorded); a new worker
 * finishes every execution. Checked: every step recorded before a kill never ran again, every step in
 * flight at a kill ran again later (at-least-once), every execution acknowledged (scheduled) completes
 * with the right output, and the last worker exits 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import { tsArgs, WatchedProcess } from "./support/child-process.js";
import { freeze, thaw } from "./support/freeze.js";

const WORKER = new URL("./fixtures/crash-worker.ts", import.meta.url).pathname;
const KILLS = 8;
/** Further step starts to wait for before freezing again when a freeze found no step in flight. */
const STARTS_PER_RETRY = 5;
const FREEZE_TRIES = 20;

function startWorker(database: string, effects: string, generation: number): WatchedProcess {
  return new WatchedProcess(`worker ${generation}`, process.execPath, [...tsArgs(WORKER), database, effects, String(generation)]);
}

const isStart = (line: string) => line.startsWith("start ");

/** Waits until the worker printed `count` more step starts than it has so far; fails after 30 s (a worker out of work). */
async function waitForStarts(worker: WatchedProcess, count: number): Promise<void> {
  const total = worker.lines.filter(isStart).length + count;
  await worker.waitForLine(isStart, `${count} further step starts`, 30_000, total);
}

/** The `<execution> <step>` keys of the steps a generation started (its side-effect lines). */
function startedIn(effects: string, generation: number): string[] {
  const prefix = `${generation} `;
  return readFileSync(effects, "utf8")
    .split("\n")
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

interface Kill {
  /** Steps recorded when the worker died: they must never run again. */
  recorded: Set<string>;
  /** Steps the worker had started and not recorded when it died: they must run again. */
  inFlight: string[];
}

/**
 * Waits for `firstStarts` step starts, then freezes the worker and reads what is recorded. A frozen
 * process commits nothing more, and SIGKILL ends it without running another instruction, so what is read
 * is exactly what is recorded at the kill. It is killed only if a step it started is unrecorded (it is
 * mid-step); otherwise it is thawed and looked at again after a few more starts.
 */
async function killMidStep(
  worker: WatchedProcess,
  generation: number,
  firstStarts: number,
  read: { store: Store; ids: string[]; effects: string },
): Promise<Kill> {
  await waitForStarts(worker, firstStarts);
  for (let attempt = 1; attempt <= FREEZE_TRIES; attempt++) {
    await freeze(worker.child);
    const recorded = await recordedSteps(read.store, read.ids);
    const inFlight = startedIn(read.effects, generation).filter((key) => !recorded.has(key));
    if (inFlight.length > 0) {
      await worker.killHard();
      return { recorded, inFlight };
    }
    thaw(worker.child);
    await waitForStarts(worker, STARTS_PER_RETRY);
  }
  assert.fail(`generation ${generation} was not mid-step at any of ${FREEZE_TRIES} freezes`);
}

async function recordedSteps(store: Store, ids: string[]): Promise<Set<string>> {
  const recorded = new Set<string>();
  for (const id of ids) {
    for (const step of (await store.getStepDetail(id)).steps) if (step.state === "completed") recorded.add(`${id} ${step.name}`);
  }
  return recorded;
}

test("SIGKILL mid-step, many times: recorded steps never re-run and nothing acknowledged is lost", { timeout: 120_000 }, async (t) => {
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
    const kills: Kill[] = [];
    for (let generation = 0; generation < KILLS; generation++) {
      const worker = startWorker(database, effects, generation);
      kills.push(await killMidStep(worker, generation, 5 + generation * 7, { store, ids, effects }));
      await schedule(5);
    }
    const final = startWorker(database, effects, KILLS);
    for (const id of ids) {
      const done = await api.waitForTerminal(id, 60_000);
      assert.equal(done.status, "completed", `${id} completed`);
    }
    assert.deepEqual(await final.stop(60_000), { code: 0, signal: null }, "the last worker shuts down cleanly on SIGTERM (exit 0)");

    const runs = readFileSync(effects, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string, string]);
    for (const [k, { recorded, inFlight }] of kills.entries()) {
      for (const [generation, id, step] of runs) {
        if (Number(generation) > k)
          assert.ok(
            !recorded.has(`${id} ${step}`),
            `${id} ${step} was recorded before kill ${k} but ran again in generation ${generation}`,
          );
      }
      for (const key of inFlight)
        assert.ok(
          runs.some(([generation, id, step]) => Number(generation) > k && `${id} ${step}` === key),
          `${key} was in flight at kill ${k} and never ran again`,
        );
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
    const inFlightAtKills = kills.reduce((sum, kill) => sum + kill.inFlight.length, 0);
    // Every kill landed mid-step, so at least one step per kill ran twice; and only those in flight did.
    assert.ok(inFlightAtKills >= KILLS, `steps in flight at the kills: ${inFlightAtKills}`);
    assert.ok(reruns >= inFlightAtKills, `re-runs (${reruns}) cover the ${inFlightAtKills} steps in flight at the kills`);
    assert.ok(reruns <= KILLS * 8, `at most the steps in flight at each kill re-ran (${reruns})`);
    assert.ok(kills.at(-1)!.recorded.size > 0, "kills happened after some steps were recorded");
    t.diagnostic(`steps in flight at each kill: ${kills.map((kill) => kill.inFlight.length).join(", ")}; re-runs: ${reruns}`);
  } finally {
    await api.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
