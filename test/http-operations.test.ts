/**
 * Black-box tests of the operations routes (operations.md §1-§2) against a real `zart-server` process on a
 * temporary SQLite file: the step timeline, the task and worker lists, retry and rerun, and the additive
 * fields of GET /executions/:id. Longer than 300 lines because it walks every route through its errors and
 * edges (unknown ids, wrong statuses, racing retries, truncation, attempts across a retry) in one process.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { executionJson } from "../src/server/serialize.js";
import { applyTransition } from "../src/state/apply.js";
import { TRANSITIONS } from "../src/state/transitions.js";
import { toExecution } from "../src/store/row-mapping.js";
import { apiHelpers, assertError, body, ID, JSON_HEADERS, type Json, RFC3339_Z } from "./support/http-helpers.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

let server: ServerProcess;
let api: string;
const { scheduled, statusOf, until, onboardingAtWait } = apiHelpers(() => api);

before(async () => {
  server = await startServer({ args: ["--tasks", "test/fixtures/ops-tasks.ts"] });
  api = `${server.url}/api/v1`;
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

type Step = Json & { name: string; status: string; attempts: Array<Json & { error: Json | null }> };

async function steps(id: string): Promise<Step[]> {
  const r = await call(`${api}/executions/${id}/steps`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(body(r).execution_id, id);
  return body(r).steps as Step[];
}

/** Waits for the execution to end and returns the wait body. */
async function ended(id: string): Promise<Json> {
  const r = await call(`${api}/executions/${id}/wait?timeout=30`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return body(r);
}

async function approve(id: string, payload: Json = { approved: true, reviewer: "jane@example.com" }): Promise<void> {
  const r = await call(`${api}/events/${id}/manager-approval`, { json: payload });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

const retry = (id: string) => call(`${api}/executions/${id}/retry`, { method: "POST" });
const rerun = (id: string, json: unknown = {}) => call(`${api}/executions/${id}/rerun`, { json });

describe("GET /executions/:id/steps", () => {
  it("every step and the event wait in order, with times, attempts, results, the wait's schema and deadline, then its payload", async () => {
    const id = await onboardingAtWait("steps-1");
    const waiting = await steps(id);
    assert.deepEqual(
      waiting.map((s) => [s.name, s.kind, s.status]),
      [
        ["create-account", "step", "completed"],
        ["send-welcome-email", "step", "completed"],
        ["provision-resources", "step", "completed"],
        ["manager-approval", "event", "waiting"],
      ],
    );
    const [account, , , wait] = waiting as [Step, Step, Step, Step];
    assert.deepEqual(account.result, { account_id: "acct_steps-1", email: "steps-1@example.com" });
    assert.equal(account.error, null);
    assert.match(String(account.started_at), RFC3339_Z);
    assert.equal(typeof account.duration_ms, "number");
    assert.deepEqual(
      account.attempts.map((a) => [a.attempt, a.execution_attempt, a.error]),
      [[1, 1, null]],
    );
    assert.match(String(account.attempts[0]?.ended_at), RFC3339_Z);
    assert.equal(wait.completed_at, null);
    assert.equal(wait.duration_ms, null);
    assert.equal(wait.payload, undefined);
    assert.deepEqual((wait.schema as Json).required, ["approved", "reviewer"]);
    const deadline = Date.parse(String(wait.timeout_at)) - Date.parse(String(wait.started_at));
    assert.ok(Math.abs(deadline - 24 * 3600 * 1000) < 1000, `the 24 h deadline, got ${deadline} ms`);

    await approve(id, { approved: true, reviewer: "jane@example.com", notes: "fine" });
    await ended(id);
    const received = (await steps(id))[3] as Step;
    assert.equal(received.status, "completed");
    assert.deepEqual(received.payload, { approved: true, reviewer: "jane@example.com", notes: "fine" });
    assert.equal(received.schema, undefined, "the schema is shown while the wait is open");
    assert.equal(received.result, undefined);
  });

  it("children (started, run to their end) and a sleep", async () => {
    const id = await scheduled("family", {});
    const output = (await ended(id)).output as Json;
    await ended(output.quick as string);
    const timeline = await steps(id);
    assert.deepEqual(
      timeline.map((s) => [s.name, s.kind, s.status]),
      [
        ["later", "child", "completed"],
        ["quick", "child", "completed"],
        ["ran", "child", "completed"],
        ["pause", "sleep", "completed"],
      ],
    );
    const [later, quick, ran, pause] = timeline as [Step, Step, Step, Step];
    assert.equal(later.child_execution_id, output.later);
    assert.equal(later.result, undefined, "the child has not ended");
    assert.equal(quick.child_execution_id, output.quick);
    assert.deepEqual(quick.result, { echo: { n: 2 } }, "a started child's output, once it ended");
    assert.deepEqual(ran.result, { echo: { n: 3 } });
    assert.deepEqual(ran.attempts, []);
    assert.match(String(pause.wake_at), RFC3339_Z);
    assert.ok(Date.parse(String(pause.wake_at)) - Date.parse(String(pause.started_at)) >= 10);
  });

  it("a failed step: every attempt with its error and stack; the execution's error has no stack", async () => {
    const id = await scheduled("flaky", { failures: 5 });
    const done = await ended(id);
    assert.equal(done.status, "failed");
    assert.equal((done.error as Json).stack, undefined);
    const execution = await statusOf(id);
    assert.equal((execution.error as Json).step, "unreliable");
    assert.equal((execution.error as Json).stack, undefined);
    const [step] = (await steps(id)) as [Step];
    assert.equal(step.status, "failed");
    assert.equal((step.error as Json).name, "Error");
    assert.match(String((step.error as Json).message), /unreliable failed on attempt 5 of 6/);
    assert.deepEqual(
      step.attempts.map((a) => [a.attempt, a.execution_attempt, (a.error as Json).message]),
      [1, 2, 3, 4, 5].map((n) => [n, 1, `unreliable failed on attempt ${n} of 6`]),
    );
    for (const a of step.attempts) {
      assert.match(String((a.error as Json).stack), /^Error: unreliable failed[\s\S]*\n\s+at /);
      assert.equal((a.error as Json).step, undefined, "an attempt's error does not repeat the step name");
      assert.ok(Date.parse(String(a.ended_at)) >= Date.parse(String(a.started_at)));
    }
  });

  it("a retry keeps counting attempts, each with the execution attempt that made it", async () => {
    const id = await scheduled("flaky", { failures: 5 });
    assert.equal((await ended(id)).status, "failed");
    assert.equal((await retry(id)).status, 200);
    assert.equal((await ended(id)).status, "completed");
    const [step] = (await steps(id)) as [Step];
    assert.equal(step.status, "completed");
    assert.equal(step.discarded, undefined);
    assert.deepEqual(step.result, { attempts: 6 });
    assert.equal(step.started_at, step.attempts[0]?.started_at, "the entry spans every attempt, before the retry too");
    assert.deepEqual(
      step.attempts.map((a) => [a.attempt, a.execution_attempt, a.error === null]),
      [
        [1, 1, false],
        [2, 1, false],
        [3, 1, false],
        [4, 1, false],
        [5, 1, false],
        [6, 2, true],
      ],
    );
  });

  it("a step being executed is `running`", async () => {
    const id = await scheduled("blocker", {});
    await server.waitForLine((l) => l === `blocker-start ${id}`, "the blocker step to start");
    // Its start is written right after it starts (a progress write): wait until the store says so.
    await eventually(async () => ((await statusOf(id)).current_step === "block" ? true : undefined), 10_000, "current_step");
    const [step] = (await steps(id)) as [Step];
    assert.deepEqual([step.name, step.kind, step.status, step.completed_at], ["block", "step", "running", null]);
    assert.match(String(step.started_at), RFC3339_Z);
    assert.equal((await call(`${api}/executions/${id}/cancel`, { method: "POST" })).status, 200);
  });

  it("values over 64 KiB are replaced by their size, smaller ones are not; the output itself is whole", async () => {
    const big = { s: "é".repeat(40_000) }; // 80,000 bytes of UTF-8, 40,000 characters
    const bytes = Buffer.byteLength(JSON.stringify(big));
    const exact = { s: "x".repeat(64 * 1024 - 8) };
    const [bigId, exactId] = [await scheduled("echo", big), await scheduled("echo", exact)];
    await Promise.all([ended(bigId), ended(exactId)]);
    assert.deepEqual(((await steps(bigId))[0] as Step).result, { truncated: true, bytes });
    assert.deepEqual(((await steps(exactId))[0] as Step).result, exact, "exactly 64 KiB is shown");
    assert.deepEqual((await statusOf(bigId)).output, { echo: big });

    const waiting = await onboardingAtWait("big-payload");
    const payload = { approved: true, reviewer: "r", notes: "n".repeat(70_000) };
    await approve(waiting, payload);
    await ended(waiting);
    assert.deepEqual(((await steps(waiting))[3] as Step).payload, { truncated: true, bytes: Buffer.byteLength(JSON.stringify(payload)) });
  });

  it("unknown and malformed ids are 404 execution_not_found", async () => {
    assertError(await call(`${api}/executions/exec-0000000000000000/steps`), 404, "execution_not_found");
    assertError(await call(`${api}/executions/not-an-id/steps`), 404, "execution_not_found");
  });
});

describe("POST /executions/:id/retry", () => {
  it("resumes a failed execution in place: 200 with the status body, pending, attempt 2, same id", async () => {
    const id = await scheduled("flaky", { failures: 5 });
    await ended(id);
    const r = await retry(id);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const resumed = body(r);
    assert.deepEqual(Object.keys(resumed), Object.keys(await statusOf(id)), "the same fields as GET /executions/:id");
    assert.equal(resumed.execution_id, id);
    assert.equal(resumed.status, "pending");
    assert.equal(resumed.attempt, 2);
    assert.equal(resumed.error, null);
    assert.equal(resumed.completed_at, null);
    assert.notEqual((await statusOf(id)).status, "failed", "no GET serves the old terminal record");
    assert.deepEqual((await ended(id)).output, { attempts: 6 });
  });

  it("resumes a cancelled execution where it was: it waits for its event again", async () => {
    const id = await onboardingAtWait("retry-cancelled");
    assert.equal((await call(`${api}/executions/${id}/cancel`, { method: "POST" })).status, 200);
    assertError(
      await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "x" } }),
      409,
      "not_waiting_for_event",
    );
    assert.equal((await retry(id)).status, 200);
    const waiting = await until(id, "waiting");
    assert.equal(waiting.attempt, 2);
    await approve(id);
    assert.equal((await ended(id)).status, "completed");
    assert.deepEqual(
      (await steps(id)).map((s) => [s.name, s.status]),
      [
        ["create-account", "completed"],
        ["send-welcome-email", "completed"],
        ["provision-resources", "completed"],
        ["manager-approval", "completed"],
      ],
    );
  });

  it("any other status is 409 execution_not_retryable; unknown ids 404; a body is ignored but must be JSON", async () => {
    const done = await scheduled("echo", { n: 1 });
    await ended(done);
    assertError(await retry(done), 409, "execution_not_retryable");
    const waiting = await onboardingAtWait("retry-waiting");
    const refused = await retry(waiting);
    assertError(refused, 409, "execution_not_retryable");
    assert.match(String((body(refused).error as Json).message), /is waiting and cannot be retried/);
    assertError(await retry("exec-0000000000000000"), 404, "execution_not_found");
    assertError(await retry("nope"), 404, "execution_not_found");
    assertError(
      await call(`${api}/executions/${done}/retry`, { body: "x", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    assertError(await call(`${api}/executions/${done}/retry`, { body: "{", headers: JSON_HEADERS }), 400, "invalid_json");
    assertError(await call(`${api}/executions/${done}/retry`, { json: { anything: 1 } }), 409, "execution_not_retryable");
  });

  it("two retries at once resume it once: one 200, one 409", async () => {
    const id = await scheduled("flaky", { failures: 5 });
    await ended(id);
    const answers = await Promise.all([retry(id), retry(id)]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409]);
    assertError(answers.find((r) => r.status === 409)!, 409, "execution_not_retryable");
    assert.equal((await ended(id)).status, "completed");
    assert.equal((await statusOf(id)).attempt, 2);
  });
});

describe("POST /executions/:id/rerun", () => {
  it("from scratch with the old data, or with new data: a new execution that links back", async () => {
    const old = await scheduled("echo", { n: 1 });
    await ended(old);
    const same = await rerun(old);
    assert.equal(same.status, 201, JSON.stringify(same.body));
    const created = body(same);
    assert.match(String(created.execution_id), ID);
    assert.notEqual(created.execution_id, old);
    assert.deepEqual(Object.keys(created), ["execution_id", "task", "status", "created_at", "rerun_of"]);
    assert.deepEqual([created.task, created.status, created.rerun_of], ["echo", "pending", old]);
    assert.deepEqual((await ended(created.execution_id as string)).output, { echo: { n: 1 } });
    assert.equal((await statusOf(created.execution_id as string)).rerun_of, old);
    assert.equal((await statusOf(old)).rerun_of, undefined, "fields that are not set are left out");

    const other = body(await rerun(old, { data: { n: 2 } }));
    assert.deepEqual((await ended(other.execution_id as string)).output, { echo: { n: 2 } });
    const bare = await call(`${api}/executions/${old}/rerun`, { method: "POST" });
    assert.equal(bare.status, 201, "no body at all is a rerun from the start");
  });

  it("from a step: copies what came before it (marked, original times), runs that step for real", async () => {
    const old = await onboardingAtWait("rerun-step");
    await approve(old);
    await ended(old);
    const before = await steps(old);
    const r = await rerun(old, { from_step: "provision-resources" });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = body(r).execution_id as string;
    await until(id, "waiting");
    const after = await steps(id);
    assert.deepEqual(
      after.map((s) => [s.name, s.status, s.copied_from ?? null]),
      [
        ["create-account", "completed", old],
        ["send-welcome-email", "completed", old],
        ["provision-resources", "completed", null],
        ["manager-approval", "waiting", null],
      ],
    );
    for (const i of [0, 1]) {
      const { copied_from: _c, ...copy } = after[i] as Step;
      assert.deepEqual(copy, before[i], "a copy keeps its times, attempts and result");
    }
    assert.ok(Date.parse(String(after[2]?.started_at)) > Date.parse(String(before[3]?.completed_at)), "the chosen step ran again");
  });

  it("errors: unknown step 400, data failing the schema 422, unknown id 404; nothing is created", async () => {
    const old = await onboardingAtWait("rerun-errors");
    const total = async () => body(await call(`${api}/executions?task=onboarding&limit=1`)).total;
    const count = await total();
    const unknown = await rerun(old, { from_step: "no-such-step" });
    assertError(unknown, 400, "invalid_request");
    assert.match(String((body(unknown).error as Json).message), /no-such-step/);
    const invalid = await rerun(old, { data: { user_id: "u" } });
    assertError(invalid, 422, "invalid_data");
    assert.match(String((body(invalid).error as Json).message), /email/);
    assertError(await rerun(old, { data: [1] }), 422, "invalid_data");
    assertError(await rerun(old, { from_step: 5 }), 422, "invalid_data");
    assertError(await rerun("exec-0000000000000000"), 404, "execution_not_found");
    assertError(await rerun("exec-0000000000000000", { from_step: 5 }), 404, "execution_not_found"); // the execution before the body
    assertError(await call(`${api}/executions/${old}/rerun`, { body: "{", headers: JSON_HEADERS }), 400, "invalid_json");
    assert.equal(await total(), count);
  });

  it("an idempotency key: the same rerun twice creates one (201, then 200); a key of another task's execution is 409", async () => {
    const old = await scheduled("echo", { n: 5 });
    await ended(old);
    const first = await rerun(old, { idempotency_key: "rerun-once" });
    const second = await rerun(old, { idempotency_key: "rerun-once" });
    assert.deepEqual([first.status, second.status], [201, 200]);
    assert.equal(body(second).execution_id, body(first).execution_id);
    const holder = await call(`${api}/executions`, { json: { task: "flaky", data: { failures: 0 }, idempotency_key: "flaky-key" } });
    assert.equal(holder.status, 201);
    assertError(await rerun(old, { idempotency_key: "flaky-key" }), 409, "execution_already_exists");
  });
});

describe("GET /tasks and GET /workers", () => {
  it("lists every task the worker serves, with its schema, live workers, last heartbeat and counts", async () => {
    const id = await scheduled("echo", { n: "tasks" });
    await ended(id);
    const r = await call(`${api}/tasks`);
    assert.equal(r.status, 200);
    const tasks = body(r).tasks as Json[];
    assert.deepEqual(
      tasks.map((t) => t.name),
      ["blocker", "echo", "family", "flaky", "limited", "onboarding", "sleep"],
    );
    const echo = tasks.find((t) => t.name === "echo") as Json;
    assert.equal(echo.workers, 1);
    assert.equal(echo.input_schema, null);
    assert.match(String(echo.last_seen_at), RFC3339_Z);
    const counts = echo.counts as Json;
    assert.deepEqual(Object.keys(counts), ["pending", "running", "waiting", "completed", "failed", "cancelled"]);
    assert.ok((counts.completed as number) >= 1);
    assert.deepEqual(((tasks.find((t) => t.name === "onboarding") as Json).input_schema as Json).required, ["user_id", "email"]);
  });

  it("lists the server's worker: its id, host, pid, tasks, concurrency, load and heartbeat times", async () => {
    const r = await call(`${api}/workers`);
    assert.equal(r.status, 200);
    const workers = body(r).workers as Json[];
    assert.equal(workers.length, 1);
    const [worker] = workers as [Json];
    assert.equal(worker.pid, server.child.pid);
    assert.equal(typeof worker.worker_id, "string");
    assert.equal(typeof worker.host, "string");
    assert.deepEqual([...(worker.tasks as string[])].sort(), ["blocker", "echo", "family", "flaky", "limited", "onboarding", "sleep"]);
    assert.equal(worker.concurrency, 50);
    assert.equal(typeof worker.running, "number");
    assert.ok(Date.parse(String(worker.started_at)) <= Date.parse(String(worker.last_seen_at)));
  });
});

describe("GET /executions/:id: the additive fields", () => {
  it("a child shows its parent, priority, delayed start and concurrency key; a plain execution shows none of them", async () => {
    const parent = await scheduled("family", {});
    const later = (await ended(parent)).output as Json;
    const child = await statusOf(later.later as string);
    assert.equal(child.status, "pending");
    assert.equal(child.parent_execution_id, parent);
    assert.equal(child.priority, 5);
    assert.equal(child.concurrency_key, "k1");
    assert.ok(Date.parse(String(child.start_at)) > Date.now() + 3_000_000);
    const plain = await statusOf(parent);
    for (const field of ["parent_execution_id", "rerun_of", "schedule_id", "priority", "concurrency_key", "start_at"]) {
      assert.equal(field in plain, false, field);
    }
  });

  it("a schedule's execution shows its schedule id (serialised from the record)", () => {
    const row = applyTransition(null, TRANSITIONS.create, {
      id: "exec-5c4ed01e",
      task: "report",
      data: "{}",
      idempotency_key: "schedule:nightly:1",
      now: 1_767_225_600_000,
      run_at: 1_767_225_600_000,
      start_at: null,
      priority: 0,
      concurrency_key: null,
      concurrency_limit: null,
      parent_id: null,
      parent_step: null,
      cancel_with_parent: 1,
      rerun_of: null,
      schedule_id: "nightly",
      traceparent: null,
    });
    const json = JSON.parse(executionJson(toExecution(row))) as Json;
    assert.equal(json.schedule_id, "nightly");
    assert.equal("priority" in json, false);
  });

  it("the OpenAPI document describes the operations with their error codes", async () => {
    const doc = body(await call(`${api}/openapi.json`));
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const ops = {
      getExecutionSteps: paths["/api/v1/executions/{id}/steps"]?.get,
      retryExecution: paths["/api/v1/executions/{id}/retry"]?.post,
      rerunExecution: paths["/api/v1/executions/{id}/rerun"]?.post,
      listTasks: paths["/api/v1/tasks"]?.get,
      listWorkers: paths["/api/v1/workers"]?.get,
    };
    for (const [operationId, op] of Object.entries(ops)) assert.equal(op?.operationId, operationId);
    const conflict = JSON.stringify(ops.retryExecution?.responses);
    assert.match(conflict, /ExecutionNotRetryableError/);
    assert.deepEqual(Object.keys(ops.rerunExecution?.responses as Json).sort(), [
      "200",
      "201",
      "400",
      "404",
      "405",
      "409",
      "413",
      "415",
      "422",
      "500",
      "503",
    ]);
  });
});
