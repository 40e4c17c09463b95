/**
 * The bundled example tasks end to end, on a real `zart-server` started with no `--tasks`, driven
 * through the typed client SDK (src/client).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Execution, ZartClient, type ZartHttpError } from "../src/client/index.js";
import { eventually, type ServerProcess, startServer } from "./support/server-process.js";

let server: ServerProcess;
let zart: ZartClient;

before(async () => {
  server = await startServer();
  zart = new ZartClient({ baseUrl: server.url });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function until(id: string, status: string): Promise<Execution> {
  return eventually(
    async () => {
      const execution = await zart.get(id);
      return execution.status === status ? execution : undefined;
    },
    15_000,
    `${id} ${status}`,
  );
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
    assert.equal(status, "pending");
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

  it("sleep sleeps durably, then completes", async () => {
    const started = Date.now();
    const { execution_id: id } = await zart.schedule("sleep", { seconds: 0.5 });
    const during = await until(id, "waiting");
    assert.equal(during.current_step, "nap");
    const done = await zart.wait(id, { timeoutSeconds: 10 });
    assert.deepEqual(done.done && done.output, { slept: 0.5 });
    assert.ok(Date.now() - started >= 500);
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

  it("the client lists and pages", async () => {
    const page = await zart.list({ task: "flaky", order: "asc", limit: 1 });
    assert.equal(page.total, 2);
    assert.equal(page.executions.length, 1);
    const stats = await zart.stats();
    assert.equal(
      Object.values(stats).reduce((a, b) => a + b, 0),
      (await zart.list({ limit: 1 })).total,
    );
  });
});
