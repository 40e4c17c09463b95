/**
 * The client commands (and SDK methods) whose server routes other work is still building - schedules
 * and prune - run as real `zart` processes against a small HTTP server that answers the recorded JSON of
 * operations.md (test/support/recorded-api-json.ts) and records each request. This checks what the CLI
 * sends (method, path, body, token) and prints (human and `--json`); when those routes land, end-to-end
 * tests against `zart-server` take over (as test/cli-operations.test.ts did for steps, tasks, workers,
 * retry and rerun). The SDK's request shapes for the new POST options are checked here too.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { ZartClient } from "../src/client/index.js";
import { SCHEDULE, SCHEDULES } from "./support/recorded-api-json.js";
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

describe("schedules and prune commands against a stub server", () => {
  it("schedules list, get, pause, resume: the routes under /schedules", async () => {
    const listText = answer("GET /api/v1/schedules", 200, SCHEDULES);
    answer("GET /api/v1/schedules/nightly-report", 200, SCHEDULE);
    answer("POST /api/v1/schedules/nightly-report/pause", 200, { ...SCHEDULE, paused: true, next_fire_times: [] });
    answer("POST /api/v1/schedules/nightly-report/resume", 200, SCHEDULE);
    const [list, listJson, get, pause, resume] = await Promise.all([
      zart(["schedules", "list"]),
      zart(["schedules", "list", "--json"]),
      zart(["schedules", "get", "nightly-report"]),
      zart(["schedules", "pause", "nightly-report"]),
      zart(["schedules", "resume", "nightly-report"]),
    ]);
    assert.match(
      list.out,
      /^SCHEDULE ID {5}TASK {4}CRON .*\nnightly-report {2}report {2}0 3 \* \* \* {2}Europe\/Berlin {2}skip {8}active {2}.+ \(2026-04-05T01:00:00Z\)\n/,
    );
    assert.match(list.out, /\nhourly-sync {5}sync .* paused {2}-\n$/);
    assert.equal(listJson.out, `${listText}\n`);
    assert.match(get.out, /^nightly-report\n {2}task {8}report\n/);
    assert.match(get.out, /\nnext fire times\n {2}2026-04-05T01:00:00Z \(/);
    assert.match(pause.out, / {2}state {7}paused\n/);
    assert.doesNotMatch(pause.out, /next fire times/);
    assert.match(resume.out, / {2}state {7}active\n/);
    assert.deepEqual(requests.map((r) => `${r.method} ${r.url}`).sort(), [
      "GET /api/v1/schedules",
      "GET /api/v1/schedules",
      "GET /api/v1/schedules/nightly-report",
      "POST /api/v1/schedules/nightly-report/pause",
      "POST /api/v1/schedules/nightly-report/resume",
    ]);
  });

  it("schedules create sends the schedule as the API names it; delete accepts 200 or 204", async () => {
    answer("POST /api/v1/schedules", 201, SCHEDULE);
    const created = await zart([
      "schedules",
      "create",
      "nightly-report",
      "--task",
      "report",
      "--cron",
      "0 3 * * *",
      "--timezone",
      "Europe/Berlin",
      "--overlap",
      "skip",
      "--data",
      '{"format":"pdf"}',
      "--paused",
    ]);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^nightly-report\n/);
    assert.deepEqual(JSON.parse(requests[0]?.body ?? ""), {
      schedule_id: "nightly-report",
      task: "report",
      cron: "0 3 * * *",
      timezone: "Europe/Berlin",
      data: { format: "pdf" },
      overlap: "skip",
      paused: true,
    });
    const minimal = await zart(["schedules", "create", "hourly", "--task", "sync", "--cron", "0 * * * *", "--json"]);
    assert.equal(minimal.out, `${JSON.stringify(SCHEDULE)}\n`);
    assert.deepEqual(JSON.parse(requests[1]?.body ?? ""), { schedule_id: "hourly", task: "sync", cron: "0 * * * *" });

    answer("DELETE /api/v1/schedules/nightly-report", 200, { schedule_id: "nightly-report", deleted: true });
    answer("DELETE /api/v1/schedules/hourly", 204);
    const [deleted, noContent, noContentJson] = await Promise.all([
      zart(["schedules", "delete", "nightly-report"]),
      zart(["schedules", "delete", "hourly"]),
      zart(["schedules", "delete", "hourly", "--json"]),
    ]);
    assert.equal(deleted.out, "schedule nightly-report deleted\n");
    assert.equal(noContent.out, "schedule hourly deleted\n");
    assert.equal(noContentJson.out, '{"schedule_id":"hourly","deleted":true}\n');
    const unknown = await zart(["schedules", "get", "nope"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.err, "error: not_found: No route for GET /api/v1/schedules/nope\n");
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
    answer("POST /api/v1/admin/prune", 200, { pruned: 0 });
    answer("GET /api/v1/schedules", 200, SCHEDULES);
    await Promise.all([
      runZart(["prune", "--older-than", "1d", "--server", url, "--token", "t0k"]),
      runZart(["schedules", "list", "--server", url], { env: { ZART_TOKEN: "t0k" } }),
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

  it("ids and names are escaped into the path", async () => {
    answer("GET /api/v1/schedules/a%2Fb%20c", 200, SCHEDULE);
    answer("POST /api/v1/events/exec-1/ev%2Fx", 200, { status: "delivered", execution_id: "exec-1", event_name: "ev/x" });
    const client = new ZartClient({ baseUrl: url });
    assert.equal((await client.schedules.get("a/b c")).schedule_id, "nightly-report");
    assert.equal((await client.sendEvent("exec-1", "ev/x", null)).status, "delivered");
    assert.equal(requests[1]?.body, "null");
  });
});
