/**
 * What operators scrape and read: a separate `zart worker --http-port` serves /healthz, /readyz and
 * /metrics (and nothing of the API), metric names carry one `zart_` prefix and no doubled segment, and
 * request log lines name the execution they are about. Real processes on a temporary SQLite file.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConfigError, resolveConfig } from "../src/cli/resolve-config.js";
import { apiHelpers, assertError, body } from "./support/http-helpers.js";
import { startWorker } from "./support/processes.js";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

const TOKEN = "worker-metrics-token";

function resolveWith(flags: Record<string, string>, env: Record<string, string> = {}, file: unknown = {}) {
  return resolveConfig({ flags, command: "worker", env, cwd: "/srv", readFile: () => JSON.stringify(file) });
}

describe("worker HTTP configuration", () => {
  test("--http-port, then ZART_WORKER_HTTP_PORT, then worker.httpPort; none means no HTTP", () => {
    assert.equal(resolveWith({}).worker.httpPort, null);
    assert.equal(resolveWith({ config: "/srv/zart.json" }, {}, { worker: { httpPort: 9100 } }).worker.httpPort, 9100);
    assert.equal(
      resolveWith({ config: "/srv/zart.json" }, { ZART_WORKER_HTTP_PORT: "9200" }, { worker: { httpPort: 9100 } }).worker.httpPort,
      9200,
    );
    assert.equal(resolveWith({ httpPort: "0" }, { ZART_WORKER_HTTP_PORT: "9200" }).worker.httpPort, 0);
    assert.throws(() => resolveWith({ httpPort: "http" }), ConfigError);
    assert.throws(() => resolveWith({ httpPort: "70000" }), ConfigError);
    assert.throws(() => resolveWith({ config: "/srv/zart.json" }, {}, { worker: { httpPort: -1 } }), ConfigError);
  });
});

/** A `zart worker --http-port 0` process; resolves once its banner names its HTTP address. */
async function startHttpWorker(database: string, args: string[] = [], env: Record<string, string> = {}) {
  const worker = await startWorker({ database, args: ["--http-port", "0", ...args], env });
  const line = await worker.waitForLine((l) => l.startsWith("  http:"), "its HTTP address", 10_000);
  return Object.assign(worker, { url: /http: {3}(http:\/\/\S+)/.exec(line)?.[1] ?? "" });
}

describe("zart worker --http-port", () => {
  let api: ServerProcess;
  let worker: Awaited<ReturnType<typeof startHttpWorker>>;
  const { scheduled, until } = apiHelpers(() => `${api.url}/api/v1`);

  before(async () => {
    api = await startServer({ args: ["--no-worker"] });
    worker = await startHttpWorker(api.dbPath, [], { ZART_API_TOKEN: TOKEN });
  });

  after(async () => {
    assert.equal((await worker.stop()).code, 0);
    assert.equal(await api.stop(), 0);
  });

  test("serves the probes without a token and only them: no API on a worker", async () => {
    assert.match(worker.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(body(await call(`${worker.url}/healthz`)), { status: "ok" });
    assert.deepEqual(body(await call(`${worker.url}/readyz`)), { status: "ready" });
    assertError(
      await call(`${worker.url}/api/v1/executions/exec-aaaaaaaa00`, { headers: { authorization: `Bearer ${TOKEN}` } }),
      404,
      "not_found",
    );
    assertError(await call(`${worker.url}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } }), 404, "not_found");
  });

  test("serves this worker's metrics behind its token", async () => {
    assertError(await call(`${worker.url}/metrics`), 401, "unauthorized");
    const id = await scheduled("echo", { via: "worker" });
    await until(id, "completed");
    const metrics = await eventually(
      async () => {
        const text = (await call(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text;
        return text.includes('zart_executions_completed_total{task="echo"} 1') ? text : undefined;
      },
      10_000,
      "the worker's completed counter",
    );
    assert.ok(metrics.includes('zart_execution_runs_total{task="echo",outcome="completed"} 1'));
    assert.ok(metrics.includes("zart_claim_duration_seconds_count"));
    assert.ok(metrics.includes('zart_executions{status="completed"} 1'));
  });

  test("refuses a non-loopback address without a token (exit 2)", async () => {
    await assert.rejects(startHttpWorker(api.dbPath, ["--host", "0.0.0.0"]), /exited \(2\)[\s\S]*refusing to listen on 0\.0\.0\.0/);
  });
});

describe("metric names", () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  test("every metric has one zart_ prefix and no doubled segment", async () => {
    const text = (await call(`${server.url}/metrics`)).text;
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string);
    assert.ok(names.length > 20, text);
    for (const name of names) {
      assert.match(name, /^zart_/, name);
      assert.doesNotMatch(name, /(^|_)([a-z]+)_\2_/, `${name} repeats a segment`);
    }
    for (const expected of [
      "zart_process_cpu_user_seconds_total",
      "zart_process_resident_memory_bytes",
      "zart_nodejs_eventloop_lag_seconds",
    ]) {
      assert.ok(names.includes(expected), `no ${expected} in ${names.join(", ")}`);
    }
  });
});

describe("request log lines", () => {
  let server: ServerProcess;
  const { schedule } = apiHelpers(() => `${server.url}/api/v1`);
  before(async () => {
    server = await startServer({ logLevel: "info", args: ["--tasks", "test/support/test-tasks.ts"] });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  test("carry the execution id for routes about one execution, and for the schedule that created it", async () => {
    const created = await schedule("inbox", {});
    const id = body(created).execution_id as string;
    await call(`${server.url}/api/v1/executions/${id}`);
    await call(`${server.url}/api/v1/executions/${id}/wait?timeout=0`);
    await call(`${server.url}/api/v1/events/${id}/ping`, { method: "POST" });
    await call(`${server.url}/api/v1/executions?limit=1`);
    const requests = () =>
      server.output
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === "request");
    const lines = await eventually(async () => (requests().length >= 5 ? requests() : undefined), 10_000, "five request lines");
    const byRoute = (method: string, route: string) => lines.find((l) => l.method === method && l.route === route);
    for (const [method, route] of [
      ["POST", "/api/v1/executions"],
      ["GET", "/api/v1/executions/:id"],
      ["GET", "/api/v1/executions/:id/wait"],
      ["POST", "/api/v1/events/:id/:event_name"],
    ] as const) {
      assert.equal(byRoute(method, route)?.executionId, id, `${method} ${route}: ${JSON.stringify(byRoute(method, route))}`);
    }
    const list = byRoute("GET", "/api/v1/executions");
    assert.ok(list, "the list request was logged");
    assert.equal(list.executionId, undefined);
  });
});
