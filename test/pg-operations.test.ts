/**
 * Operations across engines on one PostgreSQL schema (each engine with its own store: its own pool and
 * LISTEN connection, as separate processes have): a retry on one engine makes every other engine drop the
 * terminal record it cached, two engines retrying at once resume the execution once, and one engine lists
 * the workers of the others (a stopped worker removes itself).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ZartError } from "../src/core/errors.js";
import { silentLogger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import type { PostgresStore } from "../src/store/postgres/postgres-store.js";
import { TestSchema } from "./support/postgres.js";
import { NoticeRecorder } from "./support/store-fixtures.js";

/** Fails its first execution attempt (no retries), succeeds on the next. */
const secondTime = defineTask({
  name: "second-time",
  retry: { maxAttempts: 1 },
  async run(ctx) {
    return ctx.step("maybe", () => {
      if (ctx.attempt === 1) throw new Error("first attempt fails");
      return { attempt: ctx.attempt };
    });
  },
});

const schema = new TestSchema("ops");
const stores: PostgresStore[] = [];
const engines: Engine[] = [];
let worker: Engine;
let apiA: Engine;
let apiB: Engine;
let storeA: PostgresStore;

async function engineOn(options: { tasks?: (typeof secondTime)[]; workerId?: string }): Promise<{ engine: Engine; store: PostgresStore }> {
  const store = await schema.open();
  stores.push(store);
  const engine = await Engine.start({ store, tasks: options.tasks ?? [], workerId: options.workerId, logger: silentLogger });
  engines.push(engine);
  return { engine, store };
}

before(async () => {
  worker = (await engineOn({ tasks: [secondTime], workerId: "pg-ops-worker" })).engine;
  const a = await engineOn({});
  apiA = a.engine;
  storeA = a.store;
  apiB = (await engineOn({})).engine;
});

after(async () => {
  for (const engine of engines) await engine.stop();
  for (const store of stores) await store.close();
  await schema.drop();
});

async function failedExecution(): Promise<string> {
  const { execution } = await worker.schedule({ task: "second-time", data: {}, eager: false });
  const done = await apiA.waitForTerminal(execution.id, 20_000);
  assert.equal(done.status, "failed");
  return execution.id;
}

describe("retry across engines on one PostgreSQL", () => {
  it("another engine stops serving its cached terminal record once the resumed notice arrives", async () => {
    const id = await failedExecution();
    const reads: string[] = [];
    const read = storeA.getExecution.bind(storeA);
    storeA.getExecution = async (executionId) => {
      reads.push(executionId);
      return read(executionId);
    };
    try {
      assert.equal((await apiA.get(id)).status, "failed");
      assert.equal((await apiA.get(id)).status, "failed");
      assert.deepEqual(reads, [], "engine A serves the terminal record from memory");
      const recorder = new NoticeRecorder(storeA);
      const resumed = await apiB.retry(id);
      assert.deepEqual([resumed.status, resumed.attempt], ["pending", 2]);
      await recorder.waitFor((n) => n.kind === "resumed" && n.executionId === id, "the resumed notice on engine A's store");
      recorder.unsubscribe();
      assert.notEqual((await apiA.get(id)).status, "failed", "engine A reads the store again");
      assert.deepEqual(reads, [id]);
      const done = await apiA.waitForTerminal(id, 20_000);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { attempt: 2 });
    } finally {
      storeA.getExecution = read;
    }
  });

  it("two engines retrying at once resume it once", async () => {
    const id = await failedExecution();
    const outcomes = await Promise.allSettled([apiA.retry(id), apiB.retry(id)]);
    const refused = outcomes.filter((o) => o.status === "rejected");
    assert.equal(refused.length, 1, JSON.stringify(outcomes));
    const reason = (refused[0] as PromiseRejectedResult).reason as ZartError;
    assert.equal(reason.code, "execution_not_retryable");
    assert.equal((await apiB.waitForTerminal(id, 20_000)).status, "completed");
    assert.equal((await apiA.get(id)).attempt, 2);
  });

  it("a rerun from a step on one engine is run by the worker of another", async () => {
    const id = await failedExecution();
    const { execution, created } = await apiB.rerun(id, { fromStep: "maybe" });
    assert.equal(created, true);
    assert.equal(execution.rerunOf, id);
    assert.equal((await apiA.waitForTerminal(execution.id, 20_000)).status, "failed", "a new execution starts at attempt 1");
    const steps = await apiA.steps(execution.id);
    assert.deepEqual(
      steps.entries.map((e) => [e.name, e.status, e.copiedFrom ?? null]),
      [["maybe", "failed", null]],
    );
  });
});

describe("workers across engines", () => {
  it("every engine lists the worker engines' heartbeats; a stopped one removes itself", async () => {
    const listed = (await apiA.workers()).map((w) => w.workerId);
    assert.deepEqual(listed, ["pg-ops-worker"], "API-only engines run no worker and send no heartbeat");
    const task = (await apiB.taskList()).find((t) => t.name === "second-time");
    assert.equal(task?.workers, 1);
    const extra = await engineOn({ tasks: [secondTime], workerId: "pg-ops-extra" });
    assert.deepEqual((await apiB.workers()).map((w) => w.workerId).sort(), ["pg-ops-extra", "pg-ops-worker"]);
    await extra.engine.stop();
    engines.splice(engines.indexOf(extra.engine), 1);
    assert.deepEqual(
      (await apiB.workers()).map((w) => w.workerId),
      ["pg-ops-worker"],
    );
  });
});
