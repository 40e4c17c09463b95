/**
 * The command line: option precedence (flags > environment > config file > defaults), config
 * validation, and the processes' exit codes (2 for bad flags or configuration).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { storeOptions } from "../src/cli/engine-options.js";
import { assertSafeBind, ConfigError, type ResolveInput, resolveConfig } from "../src/cli/resolve-config.js";
import { silentLogger } from "../src/core/logger.js";
import { childEnv, runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { startWorker } from "./support/processes.js";
import { startServer } from "./support/server-process.js";

const ROOT = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "zart-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { flags: {}, cwd: "/work/app", readFile: () => "{}" };

function resolveWith(partial: Partial<ResolveInput> & { file?: unknown }) {
  return resolveConfig({
    flags: partial.flags ?? {},
    env: partial.env ?? {},
    cwd: "/work/app",
    readFile: () => (typeof partial.file === "string" ? partial.file : JSON.stringify(partial.file ?? {})),
  });
}

describe("resolveConfig", () => {
  it("has the documented defaults", () => {
    const config = resolveWith({});
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 7700);
    assert.equal(config.database, "./zart.db");
    assert.deepEqual(config.tasks, []);
    assert.deepEqual(config.tokens, []);
    assert.equal(config.bodyLimitBytes, 1024 * 1024);
    assert.equal(config.worker.enabled, true);
    assert.equal(config.worker.concurrency, 50);
    assert.equal(config.metricsPublic, false);
    assert.ok(Object.isFrozen(config));
  });

  it("takes flags over environment over the config file", () => {
    const file = {
      port: 1,
      host: "127.0.0.3",
      database: "file.db",
      tasks: ["./file-tasks.ts"],
      worker: { concurrency: 3, leaseTime: "10s" },
    };
    const env = {
      ZART_PORT: "2",
      ZART_HOST: "127.0.0.2",
      ZART_DATABASE_URL: "env.db",
      ZART_TASKS: "a.ts, b.ts",
      ZART_CONCURRENCY: "4",
      ZART_CONFIG: "/etc/zart.json",
    };
    const fromFile = resolveWith({ flags: { config: "/etc/zart.json" }, file });
    assert.equal(fromFile.port, 1);
    assert.deepEqual(fromFile.tasks, ["/etc/file-tasks.ts"]);
    assert.equal(fromFile.worker.leaseMs, 10_000);
    // A stalled transaction of this process may hold rows no longer than a quarter of the lease.
    assert.equal(fromFile.idleInTransactionMs, 2500);
    assert.equal(resolveWith({ flags: {} }).idleInTransactionMs, 7500);
    assert.equal(resolveWith({ flags: { config: "c" }, file: { worker: { leaseTime: "10m" } } }).idleInTransactionMs, 10_000);
    assert.equal(storeOptions(fromFile, silentLogger).idleInTransactionMs, 2500, "serve and worker open their store with it");
    const fromEnv = resolveWith({ env, file });
    assert.equal(fromEnv.port, 2);
    assert.equal(fromEnv.host, "127.0.0.2");
    assert.equal(fromEnv.database, "env.db");
    assert.deepEqual(fromEnv.tasks, ["/work/app/a.ts", "/work/app/b.ts"]);
    assert.equal(fromEnv.worker.concurrency, 4);
    const fromFlags = resolveWith({
      env,
      file,
      flags: { port: "3", host: "localhost", database: "flag.db", tasks: ["x.ts"], concurrency: "5", worker: false },
    });
    assert.equal(fromFlags.port, 3);
    assert.equal(fromFlags.host, "localhost");
    assert.equal(fromFlags.database, "flag.db");
    assert.deepEqual(fromFlags.tasks, ["/work/app/x.ts"]);
    assert.equal(fromFlags.worker.concurrency, 5);
    assert.equal(fromFlags.worker.enabled, false);
  });

  it("takes tokens from the environment over the config file", () => {
    const file = { tokens: ["file"], metricsPublic: true, limits: { bodyBytes: 10, maxPayloadBytes: 20 } };
    assert.deepEqual(resolveWith({ flags: { config: "c.json" }, file }).tokens, ["file"]);
    assert.deepEqual(resolveWith({ flags: { config: "c.json" }, file, env: { ZART_API_TOKEN: "one" } }).tokens, ["one"]);
    assert.deepEqual(resolveWith({ flags: { config: "c.json" }, file, env: { ZART_API_TOKENS: "a, b,,", ZART_API_TOKEN: "one" } }).tokens, [
      "a",
      "b",
    ]);
    const config = resolveWith({ flags: { config: "c.json" }, file });
    assert.equal(config.metricsPublic, true);
    assert.equal(config.bodyLimitBytes, 10);
    assert.equal(config.maxPayloadBytes, 20);
  });

  it("takes ZART_API_TOKEN whole and refuses tokens no request could send, without echoing them", () => {
    assert.deepEqual(resolveWith({ env: { ZART_API_TOKEN: " tok,en " } }).tokens, ["tok,en"]);
    assert.deepEqual(resolveWith({ env: { ZART_API_TOKEN: " " }, flags: { config: "c" }, file: { tokens: ["f"] } }).tokens, ["f"]);
    const bad: Array<[Partial<ResolveInput> & { file?: unknown }, RegExp, string]> = [
      [{ env: { ZART_API_TOKEN: "sec ret" } }, /^ZART_API_TOKEN: token 1 /, "sec ret"],
      [{ env: { ZART_API_TOKENS: "ok, sec ret" } }, /^ZART_API_TOKENS: token 2 /, "sec ret"],
      [{ flags: { config: "c" }, file: { tokens: ["ok", "s€cret"] } }, /^tokens in the config file: token 2 /, "s€cret"],
      [{ flags: { config: "c" }, file: { tokens: ["sec\nret"] } }, /^tokens in the config file: token 1 /, "sec\nret"],
    ];
    for (const [input, message, token] of bad)
      assert.throws(
        () => resolveWith(input),
        (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes(token),
        JSON.stringify(input),
      );
  });

  it("an empty host (it would listen everywhere) or database is refused; URL brackets around IPv6 are dropped", () => {
    for (const input of [{ flags: { host: "" } }, { env: { ZART_HOST: " " } }, { flags: { config: "c" }, file: { host: " " } }])
      assert.throws(
        () => resolveWith(input),
        (e: Error) => e instanceof ConfigError && /host must not be empty/.test(e.message),
      );
    assert.equal(resolveWith({ flags: { host: "[::1]" } }).host, "::1");
    assert.throws(() => resolveWith({ flags: { config: "c" }, file: { worker: { concurrency: 10_001 } } }), /concurrency/);
    for (const input of [{ flags: { database: "" } }, { env: { ZART_DATABASE_URL: " " } }])
      assert.throws(
        () => resolveWith(input),
        (e: Error) => e instanceof ConfigError && /database must not be empty/.test(e.message),
      );
  });

  it("retention: off by default; --retention over ZART_RETENTION over the config file's `retention`; bad values refused", () => {
    assert.equal(resolveWith({}).retentionMs, null);
    const file = { retention: "30d" };
    assert.equal(resolveWith({ flags: { config: "c.json" }, file }).retentionMs, 30 * 86_400_000);
    assert.equal(resolveWith({ flags: { config: "c.json" }, file: { retention: 60_000 } }).retentionMs, 60_000);
    assert.equal(resolveWith({ flags: { config: "c.json" }, file, env: { ZART_RETENTION: "12h" } }).retentionMs, 12 * 3_600_000);
    assert.equal(
      resolveWith({ flags: { config: "c.json", retention: "1h30m" }, file, env: { ZART_RETENTION: "12h" } }).retentionMs,
      5_400_000,
    );
    for (const bad of ["soon", "0s", "", "30"]) {
      assert.throws(
        () => resolveWith({ flags: { retention: bad } }),
        (error: Error) => error instanceof ConfigError && /retention/.test(error.message),
        bad,
      );
    }
    assert.throws(() => resolveWith({ flags: { config: "c.json" }, file: { retention: 0 } }), /retention/);
  });

  it("refuses a non-loopback host without a token unless allowed", () => {
    assert.throws(() => assertSafeBind(resolveWith({ flags: { host: "0.0.0.0" } })), ConfigError);
    assert.throws(() => assertSafeBind(resolveWith({ flags: { host: "10.1.2.3" } })), /refusing to listen on 10\.1\.2\.3/);
    assertSafeBind(resolveWith({ flags: { host: "0.0.0.0", allowUnauthenticatedRemote: true } }));
    assertSafeBind(resolveWith({ flags: { host: "0.0.0.0", config: "c" }, file: { allowNonLoopback: true } }));
    assertSafeBind(resolveWith({ flags: { host: "0.0.0.0" }, env: { ZART_API_TOKEN: "t" } }));
    for (const host of ["127.0.0.1", "localhost", "::1", "127.1.2.3"]) assertSafeBind(resolveWith({ flags: { host } }));
  });

  it("reads only the environment variables its command uses: a shared environment's values for the others are not refused", () => {
    assert.equal(
      resolveConfig({ ...base, command: "worker", env: { ZART_PORT: "web", ZART_WORKER_HTTP_PORT: "9100" } }).worker.httpPort,
      9100,
    );
    assert.equal(resolveConfig({ ...base, command: "serve", env: { ZART_PORT: "7800", ZART_WORKER_HTTP_PORT: "x" } }).port, 7800);
    const migrate = resolveConfig({
      ...base,
      command: "migrate",
      env: { ZART_DATABASE_URL: "m.db", ZART_PORT: "x", ZART_CONCURRENCY: "0" },
    });
    assert.equal(migrate.database, "m.db");
    assert.throws(() => resolveConfig({ ...base, command: "worker", env: { ZART_WORKER_HTTP_PORT: "x" } }), /worker HTTP port/);
    assert.throws(() => resolveConfig({ ...base, command: "serve", env: { ZART_PORT: "web" } }), /port must be an integer/);
    assert.throws(() => resolveConfig({ ...base, command: "worker", env: { ZART_CONCURRENCY: "0" } }), /concurrency/);
  });

  it("rejects bad values with a message naming them", () => {
    const bad: Array<[Partial<ResolveInput> & { file?: unknown }, RegExp]> = [
      [{ flags: { port: "abc" } }, /port/],
      [{ flags: { port: "70000" } }, /port/],
      [{ env: { ZART_PORT: "-1" } }, /port/],
      [{ flags: { concurrency: "0" } }, /concurrency/],
      [{ flags: { logLevel: "loud" } }, /log level/],
      [{ flags: { config: "c" }, file: "{not json" }, /config file/],
      [{ flags: { config: "c" }, file: { prot: 1 } }, /: prot is an unknown key$/],
      [{ flags: { config: "c" }, file: { port: "80" } }, /port/],
      [{ flags: { config: "c" }, file: { worker: { leaseTime: "soon" } } }, /leaseTime/],
      [{ flags: { config: "c" }, file: { limits: { bodyBytes: 0 } } }, /bodyBytes/],
    ];
    for (const [input, message] of bad)
      assert.throws(
        () => resolveWith(input),
        (e: Error) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(input),
      );
  });
});

const run = (args: string[]) => runToEnd(process.execPath, args);

describe("processes", () => {
  it("exit 2 with a clear message on bad flags and configuration", async () => {
    const badConfig = join(dir, "bad.json");
    writeFileSync(badConfig, JSON.stringify({ tokens: "not-a-list" }));
    const results = await Promise.all([
      run([...cliArgs("zart-server"), "--port", "abc"]),
      run([...cliArgs("zart-server"), "--no-such-flag"]),
      run([...cliArgs("zart-server"), "--config", badConfig]),
      run([...cliArgs("zart-server"), "--host", "0.0.0.0", "--database", join(dir, "x.db")]),
      run([...cliArgs("zart-server"), "--tasks", join(dir, "missing-module.ts"), "--database", join(dir, "y.db")]),
      run([...cliArgs("zart"), "frobnicate"]),
    ]);
    for (const r of results) assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(results[0]?.stderr ?? "", /port/);
    assert.match(results[2]?.stderr ?? "", /tokens/);
    assert.match(results[3]?.stderr ?? "", /refusing to listen on 0\.0\.0\.0/);
    assert.match(results[4]?.stderr ?? "", /missing-module/);
  });

  it("zart migrate creates the database and exits 0, whatever a shared environment holds for the server", async () => {
    const db = join(dir, "migrated.db");
    const shared = { ZART_PORT: "http", ZART_HOST: " ", ZART_CONCURRENCY: "0", ZART_API_TOKENS: "a b", ZART_RETENTION: "soon" };
    const r = await runToEnd(process.execPath, [...cliArgs("zart"), "migrate", "--database", db], { env: childEnv(shared) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(db));
    assert.match(r.stdout, /migrations applied: sqlite/);
  });

  it("zart worker runs tasks from the database and stops on SIGTERM with 0", async () => {
    const api = await startServer({ args: ["--no-worker"], dir });
    try {
      const schedule = () =>
        fetch(`${api.url}/api/v1/executions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ task: "echo", data: { via: "worker" } }),
        });
      // An API-only server hosts no tasks: until a worker registers `echo`, nobody would run it.
      assert.equal((await schedule()).status, 422);
      const worker = await startWorker({ database: api.dbPath });
      const created = await schedule();
      assert.equal(created.status, 201);
      const { execution_id: id } = (await created.json()) as { execution_id: string };
      const done = (await (await fetch(`${api.url}/api/v1/executions/${id}/wait?timeout=20`)).json()) as { output: unknown };
      assert.deepEqual(done.output, { echo: { via: "worker" } });
      assert.equal((await worker.stop()).code, 0);
    } finally {
      assert.equal(await api.stop(), 0);
    }
  });

  it("loads user task modules in TypeScript and JavaScript, named and default exports", async () => {
    const index = join(ROOT, "src/index.ts");
    writeFileSync(
      join(dir, "ts-tasks.ts"),
      `import { defineTask } from ${JSON.stringify(index)};\n` +
        "export const hello = defineTask({ name: 'hello', async run(ctx, data: { name: string }) { return ctx.step('greet', () => 'hi ' + data.name); } });\n" +
        "export default [hello];\n",
    );
    writeFileSync(
      join(dir, "js-tasks.mjs"),
      `import { defineTask } from ${JSON.stringify(index)};\n` +
        "export default defineTask({ name: 'twice', async run(ctx, data) { return ctx.step('double', () => data.n * 2); } });\n",
    );
    const server = await startServer({ args: ["--tasks", join(dir, "ts-tasks.ts"), "--tasks", join(dir, "js-tasks.mjs")] });
    try {
      assert.match(server.output.find((l) => l.includes("tasks:")) ?? "", /hello, twice/);
      const schedule = async (task: string, data: unknown) => {
        const r = await fetch(`${server.url}/api/v1/executions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ task, data }),
        });
        const { execution_id: id } = (await r.json()) as { execution_id: string };
        return ((await (await fetch(`${server.url}/api/v1/executions/${id}/wait?timeout=10`)).json()) as { output: unknown }).output;
      };
      assert.equal(await schedule("hello", { name: "ada" }), "hi ada");
      assert.equal(await schedule("twice", { n: 21 }), 42);
      assert.equal(
        (
          await fetch(`${server.url}/api/v1/executions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"task":"echo","data":{}}',
          })
        ).status,
        422,
      );
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it("--allow-unauthenticated-remote binds a non-loopback address and says auth is off", async () => {
    const server = await startServer({ args: ["--host", "0.0.0.0", "--allow-unauthenticated-remote", "--no-worker"] });
    try {
      assert.match(server.output.find((l) => l.includes("auth:")) ?? "", /OFF/);
      // The URL fastify names is a loopback one; the banner says where the socket really listens.
      assert.match(server.output.find((l) => l.includes("bound:")) ?? "", /bound:\s+0\.0\.0\.0 \(reachable from other machines\)/);
      assert.equal((await fetch(`${server.url.replace("0.0.0.0", "127.0.0.1")}/healthz`)).status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
