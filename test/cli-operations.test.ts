/**
 * The `zart` commands of the operations routes end to end: real `node bin/zart.js …` processes against a
 * real `zart-server` (SQLite, the example tasks and a few more): steps, tasks, workers, retry and rerun,
 * human output and `--json` (the API's JSON as is), and the API's errors with exit 1.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";
import { runZart } from "./support/zart-cli.js";

let server: ServerProcess;
let env: Record<string, string>;
const api = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${server.url}/api/v1${path}`, init);
const zart = (args: string[], input?: string) => runZart(args, { env, input });

before(async () => {
  server = await startServer({ args: ["--tasks", "test/fixtures/ops-tasks.ts"] });
  env = { ZART_SERVER: server.url };
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function started(task: string, data: unknown): Promise<string> {
  const r = await api("/executions", { json: { task, data } });
  assert.equal(r.status, 201, r.text);
  return (r.body as { execution_id: string }).execution_id;
}

async function ended(id: string): Promise<{ status: string; output: unknown }> {
  const r = await api(`/executions/${id}/wait?timeout=30`);
  assert.equal(r.status, 200, r.text);
  return r.body as { status: string; output: unknown };
}

async function atWait(userId: string): Promise<string> {
  const id = await started("onboarding", { user_id: userId, email: `${userId}@example.com` });
  await eventually(async () => ((await api(`/executions/${id}`)).body as { status: string }).status === "waiting" || undefined);
  return id;
}

describe("zart steps", () => {
  it("shows the timeline as a table; --json prints the API's JSON", async () => {
    const id = await atWait("cli-steps");
    const [human, json, text] = await Promise.all([zart(["steps", id]), zart(["steps", id, "--json"]), api(`/executions/${id}/steps`)]);
    assert.equal(human.code, 0, human.err);
    const lines = human.out.trimEnd().split("\n");
    assert.equal(lines[0], id);
    assert.match(lines[1] ?? "", /^# +NAME +KIND +STATUS +STARTED +DURATION +ATTEMPTS +DETAIL$/);
    assert.match(lines[2] ?? "", /^1 +create-account +step +completed +.+ +1 *$/);
    assert.match(lines[5] ?? "", /^4 +manager-approval +event +waiting +.+ +- +- +times out in 2\d h$/);
    assert.equal(lines.length, 6);
    assert.equal(json.out, `${text.text}\n`);
  });

  it("lists every failed attempt with its execution attempt and error", async () => {
    const id = await started("flaky", { failures: 5 });
    await ended(id);
    const human = await zart(["steps", id]);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /\n1 +unreliable +step +failed .* 5 +unreliable failed on attempt 5 of 6\n/);
    assert.match(
      human.out,
      /\nfailed attempts\n {2}unreliable attempt 1 \(execution attempt 1, .+\): unreliable failed on attempt 1 of 6\n/,
    );
    assert.equal((human.out.match(/ {2}unreliable attempt \d/g) ?? []).length, 5);
  });

  it("an unknown id is the API's 404 with exit 1", async () => {
    const result = await zart(["steps", "exec-0000000000000000"]);
    assert.deepEqual(result, {
      code: 1,
      out: "",
      err: "error: execution_not_found: No execution found with ID exec-0000000000000000\n",
    });
  });
});

describe("zart tasks and zart workers", () => {
  it("tasks: one row per task with its workers, counts and whether it has a schema", async () => {
    await ended(await started("echo", { n: "cli" }));
    const [human, json] = await Promise.all([zart(["tasks"]), zart(["tasks", "--json"])]);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /^TASK +WORKERS +LAST SEEN +PENDING +RUNNING +WAITING +COMPLETED +FAILED +CANCELLED +INPUT SCHEMA\n/);
    assert.match(human.out, /\necho +1 +.+ +0 +0 +0 +[1-9]\d* +0 +0 +no\n/);
    assert.match(human.out, /\nonboarding +1 +.+ yes\n/);
    const listed = JSON.parse(json.out) as { tasks: Array<{ name: string; workers: number }> };
    assert.deepEqual(
      listed.tasks.map((t) => [t.name, t.workers]),
      ["blocker", "echo", "family", "flaky", "limited", "onboarding", "sleep"].map((name) => [name, 1]),
    );
  });

  it("workers: the server's worker with its pid, load and tasks", async () => {
    const [human, json] = await Promise.all([zart(["workers"]), zart(["workers", "--json"])]);
    assert.equal(human.code, 0, human.err);
    const pid = String(server.child.pid);
    assert.match(
      human.out,
      new RegExp(`^WORKER ID +HOST +PID +RUNNING +STARTED +LAST SEEN +TASKS\\n\\S+ +\\S+ +${pid} +\\d+/50 +.+ blocker, `),
    );
    const listed = JSON.parse(json.out) as { workers: Array<{ pid: number; concurrency: number }> };
    assert.deepEqual(
      listed.workers.map((w) => [w.pid, w.concurrency]),
      [[server.child.pid, 50]],
    );
  });
});

describe("zart retry and zart rerun", () => {
  it("retry resumes a failed execution (attempt 2); a second retry of the completed one is refused with exit 1", async () => {
    const id = await started("flaky", { failures: 5 });
    await ended(id);
    const retried = await zart(["retry", id]);
    assert.deepEqual(retried, { code: 0, out: `${id} retried: pending (attempt 2)\n`, err: "" });
    assert.deepEqual((await ended(id)).output, { attempts: 6 });
    const refused = await zart(["retry", id]);
    assert.equal(refused.code, 1);
    assert.equal(refused.out, "");
    assert.equal(
      refused.err,
      `error: execution_not_retryable: Execution ${id} is completed and cannot be retried (only failed or cancelled executions can)\n`,
    );
  });

  it("rerun from a step, from the start with new data from stdin, and as JSON", async () => {
    const old = await atWait("cli-rerun");
    const fromStep = await zart(["rerun", old, "--from-step", "provision-resources"]);
    assert.equal(fromStep.code, 0, fromStep.err);
    const match = new RegExp(
      `^(exec-[a-z0-9]+) {2}onboarding {2}pending {2}\\(rerun of ${old}, from step "provision-resources"\\)\\n$`,
    ).exec(fromStep.out);
    assert.ok(match, fromStep.out);
    const copy = match[1] as string;
    await eventually(async () => ((await api(`/executions/${copy}`)).body as { status: string }).status === "waiting" || undefined);
    const steps = await zart(["steps", copy]);
    assert.match(steps.out, new RegExp(`\\n1 +create-account +step +completed .* copied from ${old}\\n`));
    assert.doesNotMatch(steps.out, /provision-resources .*copied/);

    const echo = await started("echo", { n: 1 });
    await ended(echo);
    const withData = await zart(["rerun", echo, "-"], '{"n":2}');
    assert.equal(withData.code, 0, withData.err);
    const fresh = /^(exec-[a-z0-9]+) {2}echo {2}pending {2}\(rerun of exec-[a-z0-9]+, from the start\)\n$/.exec(withData.out);
    assert.ok(fresh, withData.out);
    assert.deepEqual((await ended(fresh[1] as string)).output, { echo: { n: 2 } });
    const json = await zart(["rerun", echo, "--json", "--idempotency-key", "cli-rerun-json"]);
    const body = JSON.parse(json.out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ["execution_id", "task", "status", "created_at", "rerun_of"]);
    assert.equal(body.rerun_of, echo);
  });

  it("rerun of an unknown step: the API's 400 with exit 1", async () => {
    const id = await started("echo", {});
    await ended(id);
    const result = await zart(["rerun", id, "--from-step", "nope"]);
    assert.equal(result.code, 1);
    assert.equal(result.err, `error: invalid_request: Execution ${id} never reached a step named "nope"\n`);
  });
});
