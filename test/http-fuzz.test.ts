/**
 * Property-based tests (fast-check): random and hostile methods, paths, query strings, headers and
 * bodies thrown at every route of a real `zart-server`. Every answer is a valid success or the
 * contract's error shape with the status its code maps to; nothing is ever a 500; the server keeps
 * answering; and the stored data stays consistent (no execution created by a refused request).
 * Over 300 lines: most of it is the generators, which only make sense next to the properties using them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ID } from "./support/http-helpers.js";
import { firstResponse, rawExchange } from "./support/raw-http.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

/** The contract's error table. */
const STATUS_BY_CODE: Record<string, number> = {
  execution_not_found: 404,
  task_not_registered: 422,
  invalid_data: 422,
  not_waiting_for_event: 409,
  execution_already_exists: 409,
  execution_not_cancellable: 409,
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
};
const STATUSES = ["pending", "running", "waiting", "completed", "failed", "cancelled"];

let server: ServerProcess;
let api: string;
/** Ids that exist: terminal ones are safe to long-poll; `waitingId` is only used for events/cancel. */
const terminalIds: string[] = [];
let waitingId = "";
let created = 0;

before(async () => {
  server = await startServer();
  api = `${server.url}/api/v1`;
  for (const data of [{}, { a: 1 }]) {
    const r = await call(`${api}/executions`, { json: { task: "echo", data } });
    terminalIds.push((r.body as { execution_id: string }).execution_id);
    created++;
  }
  const r = await call(`${api}/executions`, { json: { task: "onboarding", data: { user_id: "fz", email: "fz@example.com" } } });
  waitingId = (r.body as { execution_id: string }).execution_id;
  created++;
  await eventually(async () => {
    const s = (await call(`${api}/stats`)).body as Record<string, number>;
    return s.completed === 2 && s.waiting === 1 ? true : undefined;
  });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "%00",
    "%zz",
    "..",
    "../..",
    "exec-",
    "EXEC-ABCDEFGH",
    "exec-abcdefgh",
    "null",
    "-1",
    "1e309",
    "9".repeat(40),
    "<script>",
    "'; drop table executions;--",
  ),
);
const idArb = fc.oneof(fc.stringMatching(ID), fc.constantFrom(...["exec-00000000"]), fc.constant("TERMINAL"), hostileText);
const eventNameArb = fc.oneof(fc.constantFrom("manager-approval", "ping", "x"), hostileText);

interface Generated {
  method: string;
  path: string;
  query: Array<[string, string]>;
  contentType: string | null;
  body: string | undefined;
  authorization: string | null;
}

const pathArb = fc.oneof(
  fc.constant("/api/v1/executions"),
  idArb.map((id) => `/api/v1/executions/${id}`),
  idArb.map((id) => `/api/v1/executions/${id}/wait`),
  idArb.map((id) => `/api/v1/executions/${id}/cancel`),
  fc.tuple(fc.oneof(idArb, fc.constant("WAITING")), eventNameArb).map(([id, name]) => `/api/v1/events/${id}/${name}`),
  fc.constantFrom("/api/v1/stats", "/api/v1/openapi.json", "/healthz", "/readyz", "/metrics", "/", "/api", "/api/v1", "/api/v1/"),
  fc.array(hostileText, { maxLength: 4 }).map((parts) => `/${parts.join("/")}`),
);

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record({
    task: fc.constantFrom("echo", "flaky", "sleep"),
    data: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
      fc.record({ seconds: fc.integer({ min: -5, max: 5 }), failures: fc.integer({ min: -1, max: 2 }) }),
    ),
  }),
  fc.record(
    {
      task: fc.oneof(fc.constantFrom("echo", "sleep", "flaky", "onboarding", "nope"), fc.jsonValue({ maxDepth: 1 })),
      data: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), fc.jsonValue({ maxDepth: 2 })),
      idempotency_key: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  ),
);

/** Method and path pairs the server routes, so most generated requests get past routing. */
const routedArb = fc.oneof(
  fc.constant(["POST", "/api/v1/executions"]),
  fc.constant(["GET", "/api/v1/executions"]),
  idArb.map((id) => ["GET", `/api/v1/executions/${id}`]),
  idArb.map((id) => ["GET", `/api/v1/executions/${id}/wait`]),
  idArb.map((id) => ["POST", `/api/v1/executions/${id}/cancel`]),
  fc.tuple(fc.oneof(idArb, fc.constant("WAITING")), eventNameArb).map(([id, name]) => ["POST", `/api/v1/events/${id}/${name}`]),
  fc.constantFrom("/api/v1/stats", "/api/v1/openapi.json", "/healthz", "/readyz", "/metrics").map((path) => ["GET", path]),
);
const methodAndPath = fc.oneof(
  { arbitrary: routedArb, weight: 4 },
  { arbitrary: fc.tuple(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"), pathArb), weight: 1 },
);

const requestArb: fc.Arbitrary<Generated> = fc
  .record({
    route: methodAndPath,
    query: fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom("status", "task", "limit", "offset", "order", "timeout"), fc.string({ maxLength: 8 })),
        fc.oneof(
          fc.constantFrom(...STATUSES, "0", "1", "-1", "500", "501", "asc", "desc", "1.5", "abc", "", "99999999999999999999"),
          fc.string({ maxLength: 12 }),
        ),
      ),
      { maxLength: 4 },
    ),
    contentType: fc.oneof(
      { arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8"), weight: 6 },
      { arbitrary: fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/jsonx", "", null), weight: 2 },
    ),
    body: fc.oneof(
      { arbitrary: jsonBody.map((v) => JSON.stringify(v)), weight: 6 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.string({ maxLength: 50 }), weight: 1 },
      {
        arbitrary: fc.constantFrom(
          "{",
          "[1,",
          '{"task":"echo","data":{}',
          "\u0000",
          "{}".repeat(1000),
          '{"__proto__":{"x":1},"task":"echo","data":{"constructor":{"prototype":{}}}}',
        ),
        weight: 1,
      },
    ),
    authorization: fc.constantFrom(null, null, "Bearer x", "Basic Zm9vOmJhcg==", ""),
  })
  .map(({ route, ...rest }) => ({ method: route[0] as string, path: route[1] as string, ...rest }));

function materialise(g: Generated): { url: string; init: RequestInit } {
  const id = (text: string) => text.replace("TERMINAL", terminalIds[0] ?? "").replace("WAITING", waitingId);
  const isWait = g.path.endsWith("/wait");
  // Long-polls legitimately block until their timeout; keep generated ones short.
  const query = g.query.filter(([key]) => !(isWait && key === "timeout"));
  if (isWait) query.push(["timeout", g.query.find(([key]) => key === "timeout")?.[1] === "abc" ? "abc" : "0"]);
  const search = new URLSearchParams(query).toString();
  const encodedPath = id(g.path)
    .split("/")
    .map((part) => (/^[\w.~%-]*$/.test(part) ? part : encodeURIComponent(part)))
    .join("/");
  const headers: Record<string, string> = {};
  if (g.contentType !== null) headers["content-type"] = g.contentType;
  if (g.authorization !== null) headers.authorization = g.authorization;
  const hasBody = g.body !== undefined && g.method !== "GET";
  return {
    url: `${server.url}${encodedPath}${search ? `?${search}` : ""}`,
    init: { method: g.method, headers, body: hasBody ? g.body : undefined },
  };
}

async function checkAnswer(g: Generated): Promise<void> {
  const { url, init } = materialise(g);
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const what = `${init.method} ${url} ${JSON.stringify(init.body)?.slice(0, 80)} → ${response.status} ${text.slice(0, 200)}`;
  assert.ok(response.status < 500, what);
  if (response.status >= 400) {
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/, what);
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    assert.deepEqual(Object.keys(body), ["error"], what);
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"], what);
    assert.equal(typeof body.error.message, "string", what);
    assert.equal(STATUS_BY_CODE[body.error.code], response.status, what);
    assert.ok(!/\bat .*\.(ts|js):\d+|SQLITE|sqlite3|SELECT |INSERT /i.test(body.error.message), `leak: ${what}`);
    if (response.status === 405) assert.ok(response.headers.get("allow"), what);
    return;
  }
  if (url.includes("/metrics")) return;
  // The dashboard's page (`/`) is HTML, not JSON.
  if (new URL(url).pathname === "/") {
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/, what);
    return;
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  if (response.status === 201) {
    created++;
    assert.match(body.execution_id as string, ID, what);
    assert.equal(body.status, "pending", what);
  }
  if (typeof body.execution_id === "string") assert.match(body.execution_id, ID, what);
}

describe("hostile requests", () => {
  it("every answer is a success or a contract error; never a 500", async () => {
    await fc.assert(fc.asyncProperty(requestArb, checkAnswer), { numRuns: 400, includeErrorInReport: true });
  });

  it("raw malformed HTTP always gets a complete answer: below 500, in the error shape when an error", async () => {
    const { port } = new URL(server.url);
    // Weighted towards well-formed request lines and headers, so that many requests reach the router and
    // the body parser (a truncated JSON body, say) instead of all failing in the request line.
    const lineArb = fc.tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom("GET", "POST"), weight: 2 },
        fc.constantFrom("BREW", "G ET", "", "PUT"),
        fc.string({ maxLength: 6 }),
      ),
      fc.oneof(fc.constantFrom("/api/v1/executions", "/healthz", "*", "http://x/", "/%", "/\u00ff"), fc.string({ maxLength: 20 })),
      fc.oneof({ arbitrary: fc.constantFrom("HTTP/1.1", "HTTP/1.0"), weight: 2 }, fc.constantFrom("HTTP/9", "", "FOO")),
      fc.array(
        fc.oneof(
          {
            arbitrary: fc.constantFrom("Content-Type: application/json", "Accept: */*", "Expect: 100-continue", "Authorization: Bearer x"),
            weight: 2,
          },
          fc.string({ maxLength: 30 }),
        ),
        { maxLength: 3 },
      ),
      fc.constantFrom(
        "",
        "Content-Length: 5\r\n",
        "Content-Length: -1\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Content-Length: 2\r\nContent-Length: 3\r\n",
      ),
    );
    await fc.assert(
      fc.asyncProperty(lineArb, async ([method, target, version, headers, framing]) => {
        const raw = `${method} ${target} ${version}\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join("")}${framing}Connection: close\r\n\r\n{}`;
        const exchange = await rawExchange(Number(port), raw);
        const what = `${JSON.stringify(raw)} → ${JSON.stringify(exchange.text.slice(0, 300))} (socket error: ${exchange.error ?? "none"})`;
        assert.ok(!exchange.timedOut, `no answer within 5 s: ${what}`);
        // Only the first response counts (the bytes after a request may be read as a second one). No
        // data arrives after a socket error, so a complete response here means a reset came after it:
        // acceptable for garbage; an error or a close before a complete answer is not.
        const response = firstResponse(exchange.text, exchange.error === null, method === "HEAD");
        assert.ok(response, `no complete response: ${what}`);
        assert.ok(response.status < 500, what);
        if (response.status < 400 || method === "HEAD") return;
        assert.match(response.head, /\r\ncontent-type: application\/json/i, what);
        let parsed: { error?: { code?: string; message?: string } };
        try {
          parsed = JSON.parse(response.body) as typeof parsed;
        } catch {
          assert.fail(`the error body is not JSON: ${what}`);
        }
        assert.deepEqual(Object.keys(parsed), ["error"], what);
        assert.equal(typeof parsed.error?.message, "string", what);
        assert.equal(STATUS_BY_CODE[parsed.error?.code ?? ""], response.status, what);
      }),
      { numRuns: 150, includeErrorInReport: true },
    );
  });

  it("the server still answers, and the stored data is consistent", async () => {
    assert.equal((await call(`${server.url}/healthz`)).status, 200);
    assert.equal(server.child.exitCode, null);
    const stats = (await call(`${api}/stats`)).body as Record<string, number>;
    const total = (await call(`${api}/executions?limit=1`)).body as { total: number };
    assert.equal(
      Object.values(stats).reduce((a, b) => a + b, 0),
      total.total,
    );
    assert.equal(total.total, created, "only the requests answered 201 created executions");
    // Fuzzed `sleep` executions (up to 5 s) may end between two reads: compare once nothing moved
    // between a read of /stats before and after the per-status list totals.
    const perStatus = () =>
      Promise.all(STATUSES.map(async (s) => ((await call(`${api}/executions?status=${s}&limit=1`)).body as { total: number }).total));
    const statsList = async () => {
      const body = (await call(`${api}/stats`)).body as Record<string, number>;
      return STATUSES.map((s) => body[s]);
    };
    const [before, byStatus] = await eventually(
      async () => {
        const first = await statsList();
        const listed = await perStatus();
        const last = await statsList();
        return JSON.stringify(first) === JSON.stringify(last) ? [first, listed] : undefined;
      },
      15_000,
      "counts that hold still",
    );
    assert.deepEqual(byStatus, before);
  });
});
