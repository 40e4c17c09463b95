/**
 * The client commands (and SDK methods) whose server routes are not built yet — steps, tasks,
 * workers, retry, rerun, prune — run as real `zart` processes against a small HTTP server
 * that answers the recorded JSON of operations.md (test/support/recorded-api-json.ts) and records
 * each request. This checks what the CLI sends (method, path, body, token) and prints (human and
 * `--json`); when the real routes land, end-to-end tests against `zart-server` take over.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { ZartClient } from "../src/client/index.js";
import { RERUN, RETRIED, STEPS, TASKS, WORKERS } from "./support/recorded-api-json.js";
import { runZart } from "./support/zart-cli.js";

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

interface Answer {
  status: number;
  body?: unknown;
}

const answers = new Map<string, Answer>();
const requests: Recorded[] = [];
let server: Server;
let url: string;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk));
    request.on("end", () => resolve(text));
  });
}

before(async () => {
  server = createServer(async (request, response) => {
    const body = await readBody(request);
    const key = `${request.method} ${request.url}`;
    requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      authorization: request.headers.authorization,
      contentType: request.headers["content-type"],
      body,
    });
    const answer = answers.get(key) ?? { status: 404, body: { error: { code: "not_found", message: `No route for ${key}` } } };
    response.writeHead(answer.status, answer.body === undefined ? {} : { "content-type": "application/json" });
    response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  answers.clear();
  requests.length = 0;
});

function answer(route: string, status: number, body?: unknown): string {
  answers.set(route, { status, body });
  return body === undefined ? "" : JSON.stringify(body);
}

const zart = (args: string[], input?: string) => runZart([...args, "--server", url], { input });

describe("commands for routes the server does not serve yet", () => {
  it("steps: GET /executions/:id/steps, as a timeline or the API's JSON", async () => {
    const text = answer("GET /api/v1/executions/exec-7f3a9b2c/steps", 200, STEPS);
    const [human, json] = await Promise.all([zart(["steps", "exec-7f3a9b2c"]), zart(["steps", "exec-7f3a9b2c", "--json"])]);
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /^exec-7f3a9b2c\n# {2}NAME {16}KIND {3}STATUS/);
    assert.match(human.out, /\n5 {2}manager-approval {4}event {2}waiting .* times out .+\n/);
    assert.match(human.out, /send-welcome-email attempt 1 \(execution attempt 1, .*\): TimeoutError: SMTP timeout \[ETIMEDOUT\]/);
    assert.equal(json.out, `${text}\n`);
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url}`),
      ["GET /api/v1/executions/exec-7f3a9b2c/steps", "GET /api/v1/executions/exec-7f3a9b2c/steps"],
    );
  });

  it("tasks and workers: GET /tasks, GET /workers", async () => {
    const tasksText = answer("GET /api/v1/tasks", 200, TASKS);
    const workersText = answer("GET /api/v1/workers", 200, WORKERS);
    const [tasks, tasksJson, workers, workersJson] = await Promise.all([
      zart(["tasks"]),
      zart(["tasks", "--json"]),
      zart(["workers"]),
      zart(["workers", "--json"]),
    ]);
    assert.match(tasks.out, /^TASK {11}WORKERS {2}LAST SEEN .*INPUT SCHEMA\nonboarding {11}2 .* 1203 .* yes\n/);
    assert.equal(tasksJson.out, `${tasksText}\n`);
    assert.match(workers.out, /^WORKER ID {2}HOST {4}PID {2}RUNNING .*\nwrk-9x2k {3}app-1 {2}4242 {5}3\/50 .* onboarding, echo\n$/);
    assert.equal(workersJson.out, `${workersText}\n`);
  });

  it("retry: POST /executions/:id/retry; a 409 is reported with its code and exit 1", async () => {
    answer("POST /api/v1/executions/exec-f00dfeed/retry", 200, RETRIED);
    answer("POST /api/v1/executions/exec-running1/retry", 409, {
      error: { code: "execution_not_retryable", message: "Execution exec-running1 is running and cannot be retried" },
    });
    const [ok, refused] = await Promise.all([zart(["retry", "exec-f00dfeed"]), zart(["retry", "exec-running1"])]);
    assert.deepEqual(ok, { code: 0, out: "exec-f00dfeed retried: pending (attempt 2)\n", err: "" });
    assert.deepEqual(refused, {
      code: 1,
      out: "",
      err: "error: execution_not_retryable: Execution exec-running1 is running and cannot be retried\n",
    });
    assert.ok(requests.every((r) => r.method === "POST" && r.body === ""));
  });

  it("rerun: POST /executions/:id/rerun with from_step, data and idempotency_key as given", async () => {
    answer("POST /api/v1/executions/exec-f00dfeed/rerun", 201, RERUN);
    const fromStep = await zart(["rerun", "exec-f00dfeed", "--from-step", "charge-card"]);
    assert.equal(fromStep.code, 0, fromStep.err);
    assert.equal(fromStep.out, 'exec-n3wrun00  checkout  pending  (rerun of exec-f00dfeed, from step "charge-card")\n');
    const withData = await zart(["rerun", "exec-f00dfeed", "--idempotency-key", "again-1", "-"], '{"amount":5}');
    assert.equal(withData.out, "exec-n3wrun00  checkout  pending  (rerun of exec-f00dfeed, from the start)\n");
    const bare = await zart(["rerun", "exec-f00dfeed", "--json"]);
    assert.equal(bare.out, `${JSON.stringify(RERUN)}\n`);
    assert.deepEqual(
      requests.map((r) => [r.url, JSON.parse(r.body), r.contentType]),
      [
        ["/api/v1/executions/exec-f00dfeed/rerun", { from_step: "charge-card" }, "application/json"],
        ["/api/v1/executions/exec-f00dfeed/rerun", { data: { amount: 5 }, idempotency_key: "again-1" }, "application/json"],
        ["/api/v1/executions/exec-f00dfeed/rerun", {}, "application/json"],
      ],
    );
  });

  it("prune: POST /admin/prune with older_than", async () => {
    answer("POST /api/v1/admin/prune", 200, { pruned: 42 });
    const [human, json] = await Promise.all([zart(["prune", "--older-than", "30d"]), zart(["prune", "--older-than", "12h", "--json"])]);
    assert.deepEqual(human, { code: 0, out: "pruned 42 executions\n", err: "" });
    assert.equal(json.out, '{"pruned":42}\n');
    assert.deepEqual(
      requests.map((r) => JSON.parse(r.body)).sort((a, b) => a.older_than.localeCompare(b.older_than)),
      [{ older_than: "12h" }, { older_than: "30d" }],
    );
  });

  it("the token goes with every command as a bearer header", async () => {
    answer("GET /api/v1/tasks", 200, TASKS);
    answer("GET /api/v1/workers", 200, WORKERS);
    await Promise.all([
      runZart(["tasks", "--server", url, "--token", "t0k"]),
      runZart(["workers", "--server", url], { env: { ZART_TOKEN: "t0k" } }),
    ]);
    assert.deepEqual(
      requests.map((r) => r.authorization),
      ["Bearer t0k", "Bearer t0k"],
    );
  });
});

describe("client SDK requests for the new options and routes", () => {
  it("schedule() sends start_at (a Date as RFC 3339), priority, concurrency_key and idempotency_key", async () => {
    answer("POST /api/v1/executions", 201, { execution_id: "exec-1", task: "t", status: "pending", created_at: "2026-04-04T10:30:00Z" });
    const client = new ZartClient({ baseUrl: `${url}/`, token: "abc" });
    await client.schedule(
      "t",
      { a: 1 },
      { start_at: new Date("2026-05-01T00:00:00Z"), priority: 7, concurrency_key: "k", idempotency_key: "i-1" },
    );
    await client.schedule("t", {}, { start_at: "2026-05-01T00:00:00Z", idempotencyKey: "older-spelling" });
    assert.deepEqual(
      requests.map((r) => JSON.parse(r.body)),
      [
        { task: "t", data: { a: 1 }, idempotency_key: "i-1", start_at: "2026-05-01T00:00:00.000Z", priority: 7, concurrency_key: "k" },
        { task: "t", data: {}, idempotency_key: "older-spelling", start_at: "2026-05-01T00:00:00Z" },
      ],
    );
    assert.equal(requests[0]?.authorization, "Bearer abc");
    assert.equal(client.baseUrl, url);
  });

  it("names are escaped into the path", async () => {
    answer("POST /api/v1/events/exec-1/ev%2Fx", 200, { status: "delivered", execution_id: "exec-1", event_name: "ev/x" });
    const client = new ZartClient({ baseUrl: url });
    assert.equal((await client.sendEvent("exec-1", "ev/x", null)).status, "delivered");
    assert.equal(requests[0]?.body, "null");
  });
});
