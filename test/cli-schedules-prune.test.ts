/**
 * The client command (and SDK method) whose server route other work is still building - prune - runs as
 * a real `zart` process against a small HTTP server that answers the recorded JSON of
 * operations.md (test/support/recorded-api-json.ts) and records each request. This checks what the CLI
 * sends (method, path, body, token) and prints (human and `--json`); when those routes land, end-to-end
 * tests against `zart-server` take over (as test/cli-operations.test.ts and test/cli-schedules.test.ts
 * did for steps, tasks, workers, retry, rerun and schedules). The SDK's request shapes for the new POST options are checked here too.
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

describe("the prune command against a stub server", () => {
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
