/**
 * How the server finds and serves the dashboard's files, in process (fastify's inject): the package root
 * found upwards (from the sources and from a compiled copy's location), the file table, the CSP hash, and
 * a server built without a dashboard. The browser tests (dashboard.test.ts) cover the same files end to end.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import pino from "pino";
import { buildServer } from "../src/server/app.js";
import { type DashboardAssets, findDashboardDir, loadDashboardAssets } from "../src/server/dashboard-assets.js";
import { MemoryApi } from "./support/memory-api.js";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

async function serverWith(dashboard: DashboardAssets | null, tokens: string[] = []) {
  return buildServer(
    new MemoryApi({ echo: null }),
    { tokens, bodyLimit: 1024, metricsPublic: false, dashboard },
    pino({ level: "silent" }),
  );
}

describe("finding the dashboard", () => {
  it("takes the package root's dashboard folder, from the sources, a compiled copy and an install", () => {
    assert.equal(findDashboardDir(), join(ROOT, "dashboard"));
    assert.equal(findDashboardDir(join(ROOT, "dist", "src", "server")), join(ROOT, "dashboard"));

    const outer = mkdtempSync(join(tmpdir(), "zart-package-"));
    try {
      // An app that has its own dashboard folder and zart installed under node_modules.
      writeFileSync(join(outer, "package.json"), JSON.stringify({ name: "some-app" }));
      cpSync(join(ROOT, "dashboard"), join(outer, "dashboard"), { recursive: true });
      const installed = join(outer, "node_modules", "zart");
      mkdirSync(join(installed, "dist"), { recursive: true });
      writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "zart" }));
      writeFileSync(join(installed, "dist", "package.json"), JSON.stringify({ type: "module" }));
      assert.equal(findDashboardDir(join(installed, "dist", "src", "server")), null, "never the app's own dashboard folder");
      assert.equal(loadDashboardAssets(findDashboardDir(join(installed, "dist", "src", "server"))), null);
      cpSync(join(ROOT, "dashboard"), join(installed, "dashboard"), { recursive: true });
      assert.equal(findDashboardDir(join(installed, "dist", "src", "server")), join(installed, "dashboard"));
    } finally {
      rmSync(outer, { recursive: true, force: true });
    }
  });

  it("serves every file of the folder and the three vendor modules, with the import map's hash in the CSP", () => {
    const assets = loadDashboardAssets();
    assert.ok(assets);
    const expected = filesUnder(join(ROOT, "dashboard"))
      .filter((f) => f !== "index.html")
      .map((f) => `/ui/${f}`);
    const vendor = ["/ui/vendor/preact.mjs", "/ui/vendor/hooks.mjs", "/ui/vendor/htm.mjs"];
    assert.deepEqual([...assets.files.keys()].sort(), [...expected, ...vendor].sort());
    assert.equal(
      assets.files.get("/ui/vendor/preact.mjs")?.body.toString(),
      readFileSync(join(ROOT, "node_modules/preact/dist/preact.mjs"), "utf8"),
    );
    const html = assets.index.body.toString("utf8");
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    assert.ok(importMap.includes('"preact":"/ui/vendor/preact.mjs"'));
    assert.ok(assets.contentSecurityPolicy.includes(`'sha256-${createHash("sha256").update(importMap).digest("base64")}'`));
    const etags = new Set([assets.index, ...assets.files.values()].map((a) => a.etag));
    assert.equal(etags.size, assets.files.size + 1, "each file has its own ETag");
  });
});

describe("serving it", () => {
  it("answers the page, HEAD, 304 and the API's 404 in process; needs no token for files", async () => {
    const server = await serverWith(loadDashboardAssets(), ["t"]);
    try {
      const page = await server.app.inject({ url: "/" });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers["content-type"]), /^text\/html/);
      assert.ok(page.headers["content-security-policy"]);
      assert.equal((await server.app.inject({ method: "HEAD", url: "/ui/tasks" })).statusCode, 200);
      const etag = String(page.headers.etag);
      assert.equal((await server.app.inject({ url: "/", headers: { "if-none-match": etag } })).statusCode, 304);
      assert.equal((await server.app.inject({ url: "/", headers: { "if-none-match": '"other"' } })).statusCode, 200);
      const missing = await server.app.inject({ url: "/ui/src/missing.js" });
      assert.equal(missing.statusCode, 404);
      assert.equal((missing.json() as { error: { code: string } }).error.code, "not_found");
      assert.equal((await server.app.inject({ url: "/api/v1/stats" })).statusCode, 401);
    } finally {
      await server.close();
    }
  });

  it("serves nothing at / without a dashboard", async () => {
    const server = await serverWith(null);
    try {
      const r = await server.app.inject({ url: "/" });
      assert.equal(r.statusCode, 404);
      assert.equal((r.json() as { error: { code: string } }).error.code, "not_found");
    } finally {
      await server.close();
    }
  });
});
