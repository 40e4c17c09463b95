/**
 * The auth matrix: every route × (no token, wrong token, right token), on real server processes.
 * Server A: tokens from the environment (which wins over the config file's) and a public /metrics.
 * Server B: tokens from the config file only, /metrics protected.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

const ID = "exec-0000000000000000";
const ROUTES: Array<{ method: string; path: string; protectedRoute: boolean; json?: unknown }> = [
  { method: "POST", path: "/api/v1/executions", protectedRoute: true, json: { task: "echo", data: {} } },
  { method: "GET", path: "/api/v1/executions", protectedRoute: true },
  { method: "GET", path: `/api/v1/executions/${ID}`, protectedRoute: true },
  { method: "GET", path: `/api/v1/executions/${ID}/wait?timeout=0`, protectedRoute: true },
  { method: "POST", path: `/api/v1/executions/${ID}/cancel`, protectedRoute: true },
  { method: "POST", path: `/api/v1/events/${ID}/manager-approval`, protectedRoute: true, json: {} },
  { method: "GET", path: "/api/v1/stats", protectedRoute: true },
  { method: "GET", path: `/api/v1/executions/${ID}/steps`, protectedRoute: true },
  { method: "POST", path: `/api/v1/executions/${ID}/retry`, protectedRoute: true },
  { method: "POST", path: `/api/v1/executions/${ID}/rerun`, protectedRoute: true, json: {} },
  { method: "GET", path: "/api/v1/tasks", protectedRoute: true },
  { method: "GET", path: "/api/v1/workers", protectedRoute: true },
  { method: "GET", path: "/api/v1/openapi.json", protectedRoute: true },
  { method: "GET", path: "/api/v1/no-such-route", protectedRoute: true },
  { method: "DELETE", path: "/api/v1/stats", protectedRoute: true },
  { method: "GET", path: "/healthz", protectedRoute: false },
  { method: "GET", path: "/readyz", protectedRoute: false },
];

const dir = mkdtempSync(join(tmpdir(), "zart-auth-"));
let envServer: ServerProcess;
let fileServer: ServerProcess;

before(async () => {
  const configA = join(dir, "a.json");
  writeFileSync(configA, JSON.stringify({ tokens: ["file-token"], metricsPublic: true }));
  const configB = join(dir, "b.json");
  writeFileSync(configB, JSON.stringify({ tokens: ["secret-b-token"] }));
  [envServer, fileServer] = await Promise.all([
    startServer({ args: ["--config", configA], env: { ZART_API_TOKENS: "tok-alpha, tok-beta" }, logLevel: "info" }),
    startServer({ args: ["--config", configB] }),
  ]);
});

after(async () => {
  assert.deepEqual(await Promise.all([envServer.stop(), fileServer.stop()]), [0, 0]);
  rmSync(dir, { recursive: true, force: true });
});

async function request(base: string, route: (typeof ROUTES)[number], token: string | undefined) {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return call(`${base}${route.path}`, { method: route.method, json: route.json, headers });
}

function assertUnauthorized(r: Awaited<ReturnType<typeof call>>, what: string): void {
  assert.equal(r.status, 401, what);
  assert.equal(r.headers.get("www-authenticate"), "Bearer", what);
  assert.deepEqual(Object.keys(r.body as object), ["error"]);
  assert.equal((r.body as { error: { code: string } }).error.code, "unauthorized", what);
}

describe("auth matrix", () => {
  it("env tokens: every /api/v1 route needs one; health never does; /metrics is public by config", async () => {
    for (const route of ROUTES) {
      const what = `${route.method} ${route.path}`;
      for (const token of [undefined, "wrong-token", "file-token", "tok-alph", "tok-alpha-and-more"]) {
        const r = await request(envServer.url, route, token);
        if (route.protectedRoute) assertUnauthorized(r, `${what} with ${token}`);
        else assert.equal(r.status, 200, what);
      }
      for (const token of ["tok-alpha", "tok-beta"]) {
        const r = await request(envServer.url, route, token);
        assert.notEqual(r.status, 401, `${what} with the right token`);
        assert.ok(r.status < 500, `${what}: ${r.status}`);
      }
    }
    assert.equal((await call(`${envServer.url}/metrics`)).status, 200);
  });

  it("config-file tokens: /metrics needs one too", async () => {
    for (const route of [...ROUTES, { method: "GET", path: "/metrics", protectedRoute: true }]) {
      const what = `${route.method} ${route.path}`;
      for (const token of [undefined, "nope"]) {
        const r = await request(fileServer.url, route, token);
        if (route.protectedRoute) assertUnauthorized(r, what);
        else assert.equal(r.status, 200, what);
      }
      const r = await request(fileServer.url, route, "secret-b-token");
      assert.notEqual(r.status, 401, what);
      assert.ok(r.status < 500, `${what}: ${r.status}`);
    }
  });

  it("accepts the scheme case-insensitively and rejects malformed headers", async () => {
    const stats = `${fileServer.url}/api/v1/stats`;
    assert.equal((await call(stats, { headers: { authorization: "bearer secret-b-token" } })).status, 200);
    for (const value of ["secret-b-token", "Basic secret-b-token", "Bearer", "Bearer  ", "Bearer secret-b-token extra"]) {
      assertUnauthorized(await call(stats, { headers: { authorization: value } }), value);
    }
  });

  it("auth comes before route, media type, size and JSON checks", async () => {
    const base = fileServer.url;
    assertUnauthorized(await call(`${base}/api/v1/executions`, { body: "{bad", headers: { "content-type": "text/plain" } }), "415 case");
    assertUnauthorized(
      await call(`${base}/api/v1/executions`, { body: "x".repeat(2 * 1024 * 1024), headers: { "content-type": "application/json" } }),
      "413 case",
    );
    assertUnauthorized(
      await call(`${base}/api/v1/executions`, { body: "{bad", headers: { "content-type": "application/json" } }),
      "400 case",
    );
    assertUnauthorized(await call(`${base}/api/v1/executions/not-an-id`), "404 case");
  });

  it("never writes tokens to the log", async () => {
    await call(`${envServer.url}/api/v1/stats`, { headers: { authorization: "Bearer tok-alpha" } });
    await call(`${envServer.url}/api/v1/stats`, { headers: { authorization: "Bearer guess-token-123" } });
    // Log lines are written asynchronously: wait until the 401 line for the guessed token is out.
    await eventually(async () =>
      envServer.output.some((l) => l.includes('"status":401') && l.includes('"route":"/api/v1/stats"')) ? true : undefined,
    );
    const log = envServer.output.join("\n");
    for (const secret of ["tok-alpha", "tok-beta", "guess-token-123", "file-token"])
      assert.ok(!log.includes(secret), `log contains ${secret}`);
    assert.match(envServer.output.find((l) => l.includes("auth:")) ?? "", /auth:\s+on/);
  });
});
