/**
 * Hostile HTTP requests for property-based tests and the long fuzz run (scripts/fuzz.ts), generated from
 * the server's own OpenAPI document: every operation it lists, with its path, query and header parameters
 * and its request body's properties, filled with valid, nearly valid and hostile values; plus methods and
 * paths it does not list. `checkAnswer` states what every answer must satisfy: below 500, no stack trace
 * or SQL in any body, errors in the contract's shape with the status their code maps to.
 * Over 300 lines: the generators and the checks they feed belong together.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { firstResponse, rawExchange } from "./raw-http.js";

/**
 * The contract's error table plus the codes this server adds (operations, schedules, back-pressure),
 * written out again on purpose rather than imported from src/server/error-map.ts: it is the oracle the
 * server's mapping is checked against, so a code moved to the wrong status there fails here.
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  execution_not_found: 404,
  task_not_registered: 422,
  invalid_data: 422,
  not_waiting_for_event: 409,
  execution_already_exists: 409,
  execution_not_cancellable: 409,
  execution_not_retryable: 409,
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  schedule_not_found: 404,
  schedule_already_exists: 409,
};

export const EXECUTION_ID = /^exec-[a-z0-9]{8,32}$/;
/** A stack frame (`at fn (file.ts:12:3)`, `at node:internal/…`) or a database's words in a body. */
const LEAK = /\bat (?:[\w$.<>[\] ]+ \()?(?:file:|node:|\/)[^\s)]*:\d+|SQLITE_|sqlite3|\bSELECT\b .*\bFROM\b|\bINSERT INTO\b|pg_catalog/;

export interface Operation {
  method: string;
  /** The path template, e.g. `/api/v1/executions/{id}/wait`. */
  path: string;
  query: string[];
  headers: string[];
  /** The request body's property names (from its schema), or null when the operation takes no body. */
  bodyProperties: string[] | null;
}

type Json = Record<string, unknown>;

function schemaOf(document: Json, ref: unknown): Json {
  const name = typeof ref === "string" ? ref.replace("#/components/schemas/", "") : "";
  return (((document.components as Json).schemas as Json)[name] as Json | undefined) ?? {};
}

/** Every operation of an OpenAPI 3 document. */
export function operationsOf(document: Json): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Json>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = (operation.parameters as Array<{ in: string; name: string }> | undefined) ?? [];
      const content = ((operation.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
      const schema = content ? schemaOf(document, (content.schema as Json).$ref) : null;
      operations.push({
        method: method.toUpperCase(),
        path,
        query: parameters.filter((p) => p.in === "query").map((p) => p.name),
        headers: parameters.filter((p) => p.in === "header").map((p) => p.name),
        bodyProperties: schema ? Object.keys((schema.properties as Json | undefined) ?? {}) : null,
      });
    }
  }
  return operations;
}

/** Ids that exist on the server under test, put where a generated path says `{id:…}`. */
export interface Fixtures {
  /** Finished executions (safe to long-poll). */
  terminal: string[];
  /** An execution parked on the event `manager-approval`. */
  waiting: string;
  /** A failed execution (for retry and rerun). */
  failed: string;
  schedules: string[];
}

export interface Generated {
  method: string;
  /** A path with placeholders `⟨terminal⟩`, `⟨waiting⟩`, `⟨failed⟩` and `⟨schedule⟩` for the fixtures. */
  path: string;
  query: Array<[string, string]>;
  headers: Array<[string, string]>;
  body: string | undefined;
}

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
    "x".repeat(2000),
    "<script>",
    "'; drop table executions;--",
    "__proto__",
    "constructor",
  ),
);
const executionIdArb = fc.oneof(
  { arbitrary: fc.constantFrom("⟨terminal⟩", "⟨waiting⟩", "⟨failed⟩"), weight: 3 },
  { arbitrary: fc.stringMatching(/^exec-[a-z0-9]{8,32}$/), weight: 1 },
  { arbitrary: hostileText, weight: 1 },
);
const scheduleIdArb = fc.oneof(
  { arbitrary: fc.constant("⟨schedule⟩"), weight: 2 },
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), weight: 1 },
  { arbitrary: hostileText, weight: 1 },
);
const eventNameArb = fc.oneof(fc.constantFrom("manager-approval", "ping", "x"), hostileText);

const anyJson = fc.jsonValue({ maxDepth: 3 });
const taskArb = fc.oneof(fc.constantFrom("echo", "sleep", "flaky", "onboarding", "nope", ""), anyJson);
const cronArb = fc.oneof(
  fc.constantFrom("0 0 1 1 *", "*/5 * * * *", "0 9 * * MON-FRI", "* * * * *", "61 * * * *", "", "@yearly", "0 0 31 2 *"),
  fc.string({ maxLength: 20 }),
);
/** Values for body properties the server knows; anything else gets arbitrary JSON. */
const PROPERTY_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  task: taskArb,
  data: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
    fc.record({ seconds: fc.integer({ min: -5, max: 3 }), failures: fc.integer({ min: -1, max: 2 }) }),
    anyJson,
  ),
  idempotency_key: fc.oneof(fc.string({ maxLength: 300 }), anyJson),
  schedule_id: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), hostileText, anyJson),
  cron: cronArb,
  timezone: fc.oneof(fc.constantFrom("UTC", "Europe/Paris", "Mars/Olympus", ""), anyJson),
  overlap: fc.oneof(fc.constantFrom("skip", "allow", "buffer_one", "cancel_other", "nope"), anyJson),
  from_step: fc.oneof(fc.constantFrom("create-account", "unreliable", "nope", ""), anyJson),
  priority: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double(), anyJson),
  start_at: fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.string({ maxLength: 30 }),
    anyJson,
  ),
  concurrency_key: fc.oneof(fc.string({ maxLength: 40 }), anyJson),
};

function bodyArb(properties: string[]): fc.Arbitrary<string | undefined> {
  const shaped = fc
    .record(Object.fromEntries(properties.map((name) => [name, PROPERTY_VALUES[name] ?? anyJson])), { requiredKeys: [] })
    .map((value) => JSON.stringify(value));
  // Bodies the routes accept, so that a share of the requests gets past validation and changes state.
  const valid: Array<fc.WeightedArbitrary<string | undefined>> = [];
  if (properties.includes("task") && properties.includes("cron")) {
    valid.push({
      arbitrary: fc
        .record({ schedule_id: fc.stringMatching(/^fz-[a-z0-9]{1,8}$/), task: fc.constant("echo"), cron: cronArb, data: fc.constant({}) })
        .map((value) => JSON.stringify(value)),
      weight: 2,
    });
  } else if (properties.includes("task")) {
    valid.push({
      arbitrary: fc
        .record(
          {
            task: fc.constantFrom("echo", "sleep", "flaky"),
            data: fc.record({ seconds: fc.integer({ min: 0, max: 2 }), failures: fc.integer({ min: 0, max: 6 }) }),
            idempotency_key: fc.stringMatching(/^[a-z0-9]{1,6}$/),
            priority: fc.integer({ min: -5, max: 5 }),
          },
          { requiredKeys: ["task", "data"] },
        )
        .map((value) => JSON.stringify(value)),
      weight: 3,
    });
  }
  return fc.oneof(
    ...valid,
    { arbitrary: shaped, weight: 6 },
    { arbitrary: anyJson.map((value) => JSON.stringify(value)), weight: 2 },
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
        `{"task":"echo","data":{"big":"${"y".repeat(1_100_000)}"}}`,
      ),
      weight: 1,
    },
  );
}

function pathArb(template: string): fc.Arbitrary<string> {
  const parts = template.split(/(\{[^}]+\})/).filter((part) => part !== "");
  return fc
    .tuple(
      ...parts.map((part) => {
        if (part === "{event_name}") return eventNameArb;
        if (part === "{id}") return template.startsWith("/api/v1/schedules") ? scheduleIdArb : executionIdArb;
        return fc.constant(part);
      }),
    )
    .map((filled) => filled.join(""));
}

const QUERY_VALUES = fc.oneof(
  fc.constantFrom("pending", "running", "waiting", "completed", "failed", "cancelled", "echo", "0", "1", "-1", "500", "501", "asc", "desc"),
  fc.constantFrom("1.5", "abc", "", "99999999999999999999", "1e3", " 5"),
  fc.string({ maxLength: 12 }),
);
const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,40}$/), fc.constantFrom("", "0", "-1", "x".repeat(500)));
const CONTENT_TYPES = fc.oneof(
  { arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8"), weight: 6 },
  {
    arbitrary: fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/jsonx", "application/problem+json", ""),
    weight: 2,
  },
);

function headersArb(operation: Operation, authorization: fc.Arbitrary<string | null>): fc.Arbitrary<Array<[string, string]>> {
  return fc
    .record({
      contentType: fc.option(CONTENT_TYPES, { freq: 8 }),
      authorization,
      declared: fc.array(fc.tuple(fc.constantFrom(...(operation.headers.length > 0 ? operation.headers : ["traceparent"])), headerValue), {
        maxLength: 1,
      }),
      traceparent: fc.option(fc.constantFrom("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-zz-zz-zz", "ff-0-0-0"), {
        freq: 4,
      }),
      extra: fc.array(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue), { maxLength: 2 }),
      accept: fc.option(fc.constantFrom("*/*", "text/html", "application/xml", "application/json;q=0"), { freq: 3 }),
    })
    .map(({ contentType, authorization: auth, declared, traceparent, extra, accept }) => {
      const headers: Array<[string, string]> = [...declared, ...extra];
      if (contentType !== null) headers.push(["content-type", contentType]);
      if (auth !== null) headers.push(["authorization", auth]);
      if (traceparent !== null) headers.push(["traceparent", traceparent]);
      if (accept !== null) headers.push(["accept", accept]);
      return headers;
    });
}

function operationArb(operation: Operation, authorization: fc.Arbitrary<string | null>): fc.Arbitrary<Generated> {
  return fc
    .record({
      path: pathArb(operation.path),
      query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...operation.query, "x"), fc.string({ maxLength: 8 })), QUERY_VALUES), {
        maxLength: 4,
      }),
      headers: headersArb(operation, authorization),
      body: operation.bodyProperties ? bodyArb(operation.bodyProperties) : fc.option(fc.constantFrom("{}", "x", "[]"), { freq: 6 }),
    })
    .map(({ body, ...rest }) => ({ method: operation.method, ...rest, body: body ?? undefined }));
}

/** Paths the document does not list and methods it does not define, a fifth of the requests. */
function offContractArb(operations: Operation[], authorization: fc.Arbitrary<string | null>): fc.Arbitrary<Generated> {
  const path = fc.oneof(
    fc.constantFrom(...operations.map((o) => o.path)).chain(pathArb),
    fc.constantFrom("/", "/ui/executions", "/ui/nope", "/api", "/api/v1", "/api/v1/", "/api/v2/executions", "//api/v1/stats"),
    fc.array(hostileText, { maxLength: 4 }).map((parts) => `/${parts.join("/")}`),
  );
  return fc
    .record({
      method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      path,
      query: fc.array(fc.tuple(fc.string({ maxLength: 8 }), QUERY_VALUES), { maxLength: 2 }),
      headers: headersArb({ method: "GET", path: "/", query: [], headers: [], bodyProperties: null }, authorization),
      body: fc.option(bodyArb(["task", "data"]), { freq: 2 }),
    })
    .map(({ body, ...rest }) => ({ ...rest, body: body ?? undefined }));
}

/** `authorization`: the header values to try (null: none); an auth-off server ignores them. */
export function requestArb(
  operations: Operation[],
  authorization: fc.Arbitrary<string | null> = fc.constant(null),
): fc.Arbitrary<Generated> {
  return fc.oneof(
    { arbitrary: fc.oneof(...operations.map((operation) => operationArb(operation, authorization))), weight: 4 },
    { arbitrary: offContractArb(operations, authorization), weight: 1 },
  );
}

/** The request `fetch` sends: fixtures in place, long-polls kept short, unsafe path parts encoded. */
export function materialise(g: Generated, baseUrl: string, fixtures: Fixtures, pick: number): { url: string; init: RequestInit } {
  const fill = (text: string) =>
    text
      .replaceAll("⟨terminal⟩", fixtures.terminal[pick % fixtures.terminal.length] ?? "")
      .replaceAll("⟨waiting⟩", fixtures.waiting)
      .replaceAll("⟨failed⟩", fixtures.failed)
      .replaceAll("⟨schedule⟩", fixtures.schedules[pick % fixtures.schedules.length] ?? "nightly");
  const isWait = /\/wait\/?$/.test(g.path);
  const query = g.query.filter(([key]) => !(isWait && key === "timeout"));
  // Long-polls legitimately block until their timeout: 0 (check once), or a malformed value.
  if (isWait) query.push(["timeout", g.query.some(([key, value]) => key === "timeout" && value === "abc") ? "abc" : "0"]);
  const search = new URLSearchParams(query).toString();
  const path = fill(g.path)
    .split("/")
    .map((part) => (/^[\w.~%-]*$/.test(part) ? part : encodeURIComponent(part)))
    .join("/");
  const hasBody = g.body !== undefined && g.method !== "GET" && g.method !== "HEAD";
  return {
    url: `${baseUrl}${path}${search ? `?${search}` : ""}`,
    init: { method: g.method, headers: g.headers, body: hasBody ? g.body : undefined },
  };
}

function withoutKey(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutKey(item, key));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (k === key ? [] : [[k, withoutKey(v, key)]])));
}

/**
 * The text that must carry no stack trace or SQL. The OpenAPI document describes SQL-free things in
 * prose (not checked); a step timeline shows the task code's own errors with their `stack` on purpose
 * (operations.md), so only those fields are left out.
 */
function leakCandidate(url: string, status: number, text: string): string {
  const path = new URL(url).pathname;
  if (path === "/api/v1/openapi.json" && status === 200) return "";
  if (status === 200 && text !== "" && /^\/api\/v1\/executions\/[^/]+\/steps$/.test(path))
    return JSON.stringify(withoutKey(JSON.parse(text), "stack"));
  return text;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** What every answer must satisfy; throws (with the request in the message) when one does not. */
export function checkAnswer(method: string, url: string, answer: Answer, what: string): void {
  const { status, headers, text } = answer;
  assert.ok(status < 500, `5xx: ${what}`);
  assert.ok(!LEAK.test(leakCandidate(url, status, text)), `leak: ${what}`);
  if (method === "HEAD") return;
  if (status >= 400) {
    assert.match(headers.get("content-type") ?? "", /^application\/json/, what);
    const body = JSON.parse(text) as { error: { code: string; message: string } };
    assert.deepEqual(Object.keys(body), ["error"], what);
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message"], what);
    assert.equal(typeof body.error.message, "string", what);
    assert.equal(STATUS_BY_CODE[body.error.code], status, `status for ${body.error.code}: ${what}`);
    if (status === 405) assert.ok(headers.get("allow"), `405 without Allow: ${what}`);
    if (status === 401) assert.equal(headers.get("www-authenticate"), "Bearer", what);
    return;
  }
  const type = headers.get("content-type") ?? "";
  if (!/^application\/json/.test(type)) return;
  const body = JSON.parse(text) as Record<string, unknown>;
  if (typeof body.execution_id === "string") assert.match(body.execution_id, EXECUTION_ID, what);
  // A new execution is answered as its insert left it: queued, or started (or already ended) by the server's worker.
  if (status === 201 && /\/executions$/.test(new URL(url).pathname))
    assert.ok(["pending", "running", "completed", "failed"].includes(body.status as string), what);
}

/** Sends one generated request and checks the answer; resolves with its status. */
export async function sendAndCheck(g: Generated, baseUrl: string, fixtures: Fixtures, pick: number): Promise<number> {
  const { url, init } = materialise(g, baseUrl, fixtures, pick);
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  const what = `${init.method} ${url.slice(0, 300)} ${JSON.stringify(init.headers)} ${String(init.body).slice(0, 120)} → ${response.status} ${text.slice(0, 300)}`;
  checkAnswer(init.method as string, url, { status: response.status, headers: response.headers, text }, what);
  return response.status;
}

async function postJson(url: string, json: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(json) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Executions in each state a route cares about (finished, parked on an event, failed) and a yearly
 * schedule, on a server that runs the bundled example tasks; resolves once they have settled.
 */
export async function prepareFixtures(api: string): Promise<Fixtures> {
  const start = async (task: string, data: unknown) => {
    const r = await postJson(`${api}/executions`, { task, data });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.execution_id as string;
  };
  const terminal = [await start("echo", {}), await start("echo", { a: 1 })];
  const waiting = await start("onboarding", { user_id: "fz", email: "fz@example.com" });
  const failed = await start("flaky", { failures: 9 });
  const schedule = await postJson(`${api}/schedules`, { schedule_id: "fuzz-yearly", task: "echo", cron: "0 0 1 1 *" });
  assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
  for (const deadline = Date.now() + 60_000; ; ) {
    const s = (await (await fetch(`${api}/stats`)).json()) as Record<string, number>;
    if (s.completed === 2 && s.waiting === 1 && s.failed === 1) break;
    if (Date.now() > deadline) throw new Error(`fixtures did not settle: ${JSON.stringify(s)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { terminal, waiting, failed, schedules: ["fuzz-yearly"] };
}

/** Raw request lines, headers and framing `fetch` refuses to send, weighted towards well-formed ones. */
export const rawRequestArb = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom("GET", "POST"), weight: 2 },
      fc.constantFrom("BREW", "G ET", "", "PUT", "HEAD"),
      fc.string({ maxLength: 6 }),
    ),
    fc.oneof(
      fc.constantFrom("/api/v1/executions", "/api/v1/schedules", "/healthz", "*", "http://x/", "/%", "/\u00ff", "/api/v1/stats?x=%"),
      fc.string({ maxLength: 20 }),
    ),
    fc.oneof({ arbitrary: fc.constantFrom("HTTP/1.1", "HTTP/1.0"), weight: 2 }, fc.constantFrom("HTTP/9", "", "FOO", "HTTP/1.1 x")),
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
      "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
    ),
    fc.constantFrom("{}", "", '{"task":"echo","data":{}}', "zz\r\n", "0\r\n\r\n"),
  )
  .map(([method, target, version, headers, framing, body]) => ({
    method,
    raw: `${method} ${target} ${version}\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join("")}${framing}Connection: close\r\n\r\n${body}`,
  }));

/**
 * Sends one raw request and checks that a complete answer came back: below 500, in the error shape when an
 * error. Only the first response counts (the bytes after a request may be read as a second one). No data
 * arrives after a socket error, so a complete response here means a reset came after it: acceptable for
 * garbage; an error or a close before a complete answer is not, and neither is silence. Resolves with the status.
 */
export async function sendRawAndCheck(port: number, method: string, raw: string): Promise<number> {
  const exchange = await rawExchange(port, raw);
  const what = `${JSON.stringify(raw)} → ${JSON.stringify(exchange.text.slice(0, 300))} (socket error: ${exchange.error ?? "none"})`;
  assert.ok(!exchange.timedOut, `no answer within 5 s: ${what}`);
  const response = firstResponse(exchange.text, exchange.error === null, method === "HEAD");
  assert.ok(response, `no complete response: ${what}`);
  assert.ok(response.status < 500, what);
  assert.ok(!LEAK.test(response.body), `leak: ${what}`);
  if (response.status < 400 || method === "HEAD") return response.status;
  assert.match(response.head, /\r\ncontent-type: application\/json/i, what);
  const parsed = JSON.parse(response.body) as { error?: { code?: string; message?: string } };
  assert.deepEqual(Object.keys(parsed), ["error"], what);
  assert.equal(typeof parsed.error?.message, "string", what);
  assert.equal(STATUS_BY_CODE[parsed.error?.code ?? ""], response.status, what);
  return response.status;
}
