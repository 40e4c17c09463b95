/**
 * The bundled example tasks end to end, on a real `zart-server` started with no `--tasks`, driven
 * through the typed client SDK (src/client). Each test stands alone: it reads only executions it
 * created, or every execution there is, so the tests pass alone and in any order.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Execution, ZartClient, type ZartHttpError } from "../src/client/index.js";
import { eventually, type ServerProcess, startServer } from "./support/server-process.js";

/**
 * The durable-sleep test's sleep: long enough for a server restart to fit inside it, on a loaded machine
 * too (its bound below holds while the second server starts within twice this).
 */
const SLEEP_S = 4;

let server: ServerProcess;
let zart: ZartClient;

before(async () => {
  server = await startServer();
  zart = new ZartClient({ baseUrl: server.url });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function until(id: string, status: string, client = zart): Promise<Execution> {
  return eventually(
    async () => {
      const execution = await client.get(id);
      return execution.status === status ? execution : undefined;
    },
    15_000,
    `${id} ${status}`,
  );
}

/** Every id of `task` in `order`, read 3 at a time; checks each page's total, limit and offset. */
async function pageThrough(task: string, order: "asc" | "desc"): Promise<{ ids: string[]; total: number; created: number[] }> {
  const ids: string[] = [];
  const created: number[] = [];
  const first = await zart.list({ task, order, limit: 3 });
  for (let offset = 0, page = first; ; offset += 3, page = await zart.list({ task, order, limit: 3, offset })) {
    assert.equal(page.total, first.total, `the total holds while paging (${order}, offset ${offset})`);
    assert.deepEqual([page.limit, page.offset], [3, offset]);
    for (const item of page.executions) {
      ids.push(item.execution_id);
      created.push(Date.parse(item.created_at));
    }
    if (page.executions.length < 3) return { ids, total: first.total, created };
  }
}

describe("bundled example tasks", () => {
  it("loads the examples when no --tasks is given and says so", () => {
    const line = server.output.find((l) => l.includes("tasks:")) ?? "";
    for (const name of ["onboarding", "echo", "sleep", "flaky"]) assert.ok(line.includes(name), line);
    assert.match(line, /bundled examples/);
    assert.match(server.output.find((l) => l.includes("store:")) ?? "", /sqlite .*zart\.db/);
  });

  it("onboarding: three steps, waits for manager-approval, completes when approved", async () => {
    const { execution_id: id, status } = await zart.schedule("onboarding", { user_id: "u123", email: "user@example.com" });
    // The server's worker starts it at once when it is free (docs/http-api.md), else it queues.
    assert.ok(status === "running" || status === "pending", status);
    const waiting = await until(id, "waiting");
    assert.equal(waiting.waiting_for_event, "manager-approval");
    assert.equal(waiting.current_step, "manager-approval");
    assert.equal(waiting.steps_completed, 3);
    assert.equal(waiting.output, null);
    assert.notEqual(waiting.started_at, null);
    const before = await zart.wait(id, { timeoutSeconds: 0 });
    assert.equal(before.done, false);
    const delivered = await zart.sendEvent(id, "manager-approval", { approved: true, reviewer: "jane@example.com", notes: "Looks good" });
    assert.deepEqual(delivered, { status: "delivered", execution_id: id, event_name: "manager-approval" });
    const after = await zart.wait(id, { timeoutSeconds: 10 });
    assert.equal(after.done, true);
    assert.equal(after.status, "completed");
    assert.deepEqual(after.done && after.output, { customer_id: "cus_u123" });
    const final = await zart.get(id);
    assert.equal(final.steps_completed, 4);
    assert.equal(final.waiting_for_event, null);
    assert.equal(final.current_step, null);
  });

  it("onboarding: a rejection fails the execution naming the reviewer", async () => {
    const { execution_id: id } = await zart.schedule("onboarding", { user_id: "u9", email: "u9@example.com" });
    await until(id, "waiting");
    await zart.sendEvent(id, "manager-approval", { approved: false, reviewer: "bob@example.com" });
    const done = await zart.wait(id, { timeoutSeconds: 10 });
    assert.equal(done.status, "failed");
    assert.match((await zart.get(id)).error?.message ?? "", /bob@example\.com/);
    assert.notEqual((await zart.get(id)).completed_at, null);
  });

  it("onboarding: input and payload are schema-checked", async () => {
    await assert.rejects(zart.schedule("onboarding", { user_id: "u1" }), (e: ZartHttpError) => e.status === 422 && /email/.test(e.message));
    const { execution_id: id } = await zart.schedule("onboarding", { user_id: "u2", email: "u2@example.com" });
    await until(id, "waiting");
    await assert.rejects(
      zart.sendEvent(id, "manager-approval", { approved: true }),
      (e: ZartHttpError) => e.code === "invalid_data" && /reviewer/.test(e.message),
    );
    await zart.cancel(id);
  });

  it("echo completes with its data", async () => {
    const { execution_id: id } = await zart.schedule("echo", { nested: { list: [1, "two", null] } });
    const done = await zart.wait(id, { timeoutSeconds: 10 });
    assert.deepEqual(done.done && done.output, { echo: { nested: { list: [1, "two", null] } } });
  });

  it("sleep sleeps durably: it outlives a server restart and ends on its first schedule", async (t) => {
    // A server of its own on its own database file, so restarting it leaves the other tests' server alone.
    const dir = mkdtempSync(join(tmpdir(), "zart-durable-sleep-"));
    const first = await startServer({ dir });
    let second: ServerProcess | undefined;
    try {
      const before = new ZartClient({ baseUrl: first.url });
      const { execution_id: id } = await before.schedule("sleep", { seconds: SLEEP_S });
      const during = await until(id, "waiting", before);
      assert.equal(during.current_step, "nap");
      const wakeAt = async (client: ZartClient) => (await client.steps(id)).steps.find((s) => s.name === "nap")?.wake_at;
      const wakeBefore = await wakeAt(before);
      assert.ok(wakeBefore, "the sleep's wake time is recorded before the restart");
      assert.equal(await first.stop(), 0);
      const stopped = Date.now();
      second = await startServer({ dir });
      const started = Date.now() - stopped;
      const after = new ZartClient({ baseUrl: second.url });
      const done = await after.wait(id, { timeoutSeconds: 30 });
      assert.equal(done.status, "completed");
      assert.deepEqual(done.done && done.output, { slept: SLEEP_S });
      const final = await after.get(id);
      const completed = Date.parse(final.completed_at ?? "");
      assert.ok(completed - Date.parse(final.created_at) >= SLEEP_S * 1000, "it slept its full time");
      // It kept the wake time recorded before the restart: a sleep begun again after it (its wake time
      // recomputed on replay, or kept only in the first server's memory) would record a later one.
      assert.equal(await wakeAt(after), wakeBefore, "the wake time survives the restart unchanged");
      assert.ok(completed >= Date.parse(wakeBefore), "it did not end before its wake time");
      t.diagnostic(`second server up ${started} ms after the first stopped; completed ${completed - stopped} ms after it stopped`);
    } finally {
      await second?.stop();
      if (first.child.exitCode === null) await first.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("flaky: 3 failures complete on attempt 4; 5 failures fail naming the step", async () => {
    const ok = await zart.schedule("flaky", { failures: 3 });
    const bad = await zart.schedule("flaky", { failures: 5 });
    const [okDone, badDone] = await Promise.all([
      zart.wait(ok.execution_id, { timeoutSeconds: 10 }),
      zart.wait(bad.execution_id, { timeoutSeconds: 10 }),
    ]);
    assert.deepEqual(okDone.done && okDone.output, { attempts: 4 });
    assert.equal(badDone.status, "failed");
    const error = badDone.done ? badDone.error : undefined;
    assert.equal(error?.step, "unreliable");
    assert.match(error?.message ?? "", /unreliable/);
  });

  it("the client lists and pages: pages in both orders neither repeat nor skip an execution", async () => {
    // Executions of its own, so there are several pages whatever else ran before; the other tests'
    // executions of the task are paged through as well.
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) mine.push((await zart.schedule("echo", { page: i })).execution_id);
    const asc = await pageThrough("echo", "asc");
    const desc = await pageThrough("echo", "desc");
    for (const { ids, total } of [asc, desc]) {
      assert.equal(new Set(ids).size, ids.length, "no execution on two pages");
      assert.equal(ids.length, total, "every execution on some page");
    }
    for (const id of mine) assert.ok(asc.ids.includes(id), `${id} was listed`);
    assert.deepEqual(
      asc.ids,
      (await zart.list({ task: "echo", order: "asc", limit: 500 })).executions.map((e) => e.execution_id),
    );
    assert.deepEqual(desc.ids, [...asc.ids].reverse(), "desc is the exact reverse of asc");
    for (let i = 1; i < asc.ids.length; i++) {
      const [at, id, previousAt, previousId] = [asc.created[i]!, asc.ids[i]!, asc.created[i - 1]!, asc.ids[i - 1]!];
      assert.ok(previousAt < at || (previousAt === at && previousId < id), `asc is by creation time, then id: ${previousId}, ${id}`);
    }
    const stats = await zart.stats();
    assert.equal(
      Object.values(stats).reduce((a, b) => a + b, 0),
      (await zart.list({ limit: 1 })).total,
    );
  });
});
