/**
 * The `zart` client commands at their edges, run from source against a real `zart-server`: a stdout
 * whose reader went away (`| head -c 20`), data given as `null`, and a server URL, token or answer the
 * client cannot use, each reported as what it is rather than as an unreachable server.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { childEnv, ROOT, runToEnd } from "./support/child-process.js";
import { cliArgs } from "./support/cli-entry.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

interface Run {
  code: number | null;
  out: string;
  err: string;
}

async function zart(args: readonly string[], env: Record<string, string>, input?: string): Promise<Run> {
  const { code, stdout, stderr } = await runToEnd(process.execPath, [...cliArgs("zart"), ...args], { env: childEnv(env), input });
  return { code, out: stdout, err: stderr };
}

/** Runs `zart` with the read end of its stdout closed before it writes, as `| head -c 20` leaves it once done. */
function zartWithoutReader(args: readonly string[], env: Record<string, string>): Promise<Omit<Run, "out">> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliArgs("zart"), ...args], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, err }));
  });
}

describe("zart client commands at their edges", () => {
  let server: ServerProcess;
  let env: Record<string, string>;

  before(async () => {
    server = await startServer();
    env = { ZART_SERVER: server.url };
    const started = await call(`${server.url}/api/v1/executions`, { json: { task: "echo", data: { n: 1 } } });
    assert.equal(started.status, 201, started.text);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it("a stdout whose reader has gone: the rest is dropped quietly and the command keeps its exit code", async () => {
    const [list, stats, missing] = await Promise.all([
      zartWithoutReader(["list", "--json"], env),
      zartWithoutReader(["stats"], env),
      zartWithoutReader(["get", "exec-nope", "--json"], env),
    ]);
    for (const run of [list, stats]) {
      assert.equal(run.code, 0, run.err);
      assert.equal(run.err, "");
    }
    assert.equal(missing.code, 1, missing.err);
    assert.match(missing.err, /^error: execution_not_found: /);
    assert.doesNotMatch(missing.err, /EPIPE/);
  });

  it("start sends data given as null as given: the server refuses it (exit 1), as it does 1", async () => {
    const before = (await call(`${server.url}/api/v1/stats`)).text;
    const runs = await Promise.all([
      zart(["start", "echo", "--data", "null"], env),
      zart(["start", "echo", "-"], env, "null"),
      zart(["start", "echo", "--data", "1"], env),
    ]);
    for (const run of runs) {
      assert.equal(run.code, 1, run.out + run.err);
      assert.match(run.err, /^error: invalid_data: /);
    }
    assert.equal((await call(`${server.url}/api/v1/stats`)).text, before, "no execution was started");
  });

  it("a server URL with a query, fragment or credentials, or a token unfit for a header: exit 2 naming it", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--server", `${server.url}?x=1`], /^error: server must not have a query \(\?…\) or fragment \(#…\), got ".*\?x=1"\n$/],
      [["--server", `${server.url}#top`], /^error: server must not have a query \(\?…\) or fragment \(#…\), got ".*#top"\n$/],
      [["--server", server.url.replace("//", "//user:pw@")], /^error: server must not contain a user name or password/],
      [["--token", "abc\ndef"], /^error: token \(--token or ZART_TOKEN\) must hold only printable ASCII characters/],
      [["--token", "€uro"], /^error: token \(--token or ZART_TOKEN\) must hold only printable ASCII characters/],
      [["--token", "two words"], /^error: token \(--token or ZART_TOKEN\) must hold only printable ASCII characters/],
    ];
    const runs = await Promise.all(cases.map(([flags]) => zart(["stats", ...flags], env)));
    for (const [i, run] of runs.entries()) {
      const [flags, message] = cases[i] as [string[], RegExp];
      assert.equal(run.code, 2, `${flags.join(" ")}: ${run.err}`);
      assert.equal(run.out, "");
      assert.match(run.err, message, flags.join(" "));
      assert.doesNotMatch(run.err, /pw|cannot reach/, "neither the password nor a connection failure is shown");
    }
    const byEnv = await zart(["stats"], { ...env, ZART_TOKEN: "tab\there" });
    assert.equal(byEnv.code, 2, byEnv.err);
  });

  it("an answer that is not JSON: exit 1 saying so, not a JSON parse error", async () => {
    const other: Server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<html>a web page</html>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const run = await zart(["stats", "--server", url], env);
      assert.equal(run.code, 1, run.err);
      assert.equal(run.err, `error: invalid_response: the answer from ${url}/api/v1/stats is not JSON (is it a Zart server?)\n`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("a server that closes the connection without a full answer: exit 1 saying so, not asking whether it runs", async () => {
    const other: Server = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const run = await zart(["stats", "--server", url], env);
      assert.equal(run.code, 1, run.err);
      assert.equal(run.err, `error: the server at ${url} closed the connection before answering in full (UND_ERR_SOCKET).\n`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("--request-timeout: a server that never answers ends the command (exit 1, naming the limit); a wait's own time is not cut", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const silent: Server = createServer(() => {
      // Holds every request unanswered.
    });
    silent.on("connection", (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const byFlag = await zart(["stats", "--server", url, "--request-timeout", "300ms"], env);
      assert.equal(byFlag.code, 1, byFlag.err);
      assert.equal(byFlag.err, `error: no complete answer from the server at ${url} within 300ms (--request-timeout).\n`);
      const byEnv = await zart(["list", "--server", url], { ...env, ZART_REQUEST_TIMEOUT: "1s" });
      assert.equal(byEnv.code, 1, byEnv.err);
      assert.match(byEnv.err, /within 1\.0s \(--request-timeout\)/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    for (const bad of ["30", "0s", "soon", "30d"]) {
      const run = await zart(["stats", "--request-timeout", bad], env);
      assert.equal(run.code, 2, `${bad}: ${run.err}`);
      assert.match(run.err, /request timeout \(--request-timeout or ZART_REQUEST_TIMEOUT\)/);
    }
    const started = await call(`${server.url}/api/v1/executions`, {
      json: { task: "onboarding", data: { user_id: "rt", email: "rt@example.com" } },
    });
    const { execution_id: id } = JSON.parse(started.text) as { execution_id: string };
    const held = await zart(["wait", id, "--timeout", "2", "--request-timeout", "500ms"], env);
    assert.equal(held.code, 3, `still running at the wait's timeout, not cut at the request timeout: ${held.err}`);
  });

  it("--limit below 1 and --offset below 0 or past 2^53 - 1 are usage errors (exit 2), sent nowhere", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--limit", "0"], /'--limit <n>' argument '0' is invalid\. expected a whole number of 1 or more\./],
      [["--limit", "-5"], /'--limit <n>' argument '-5' is invalid\. expected a whole number of 1 or more\./],
      [["--offset", "-1"], /'--offset <n>' argument '-1' is invalid\. expected a whole number of 0 or more\./],
      [
        ["--offset", "99999999999999999999"],
        /'--offset <n>' argument '99999999999999999999' is invalid\. expected at most 9007199254740991\./,
      ],
    ];
    const runs = await Promise.all(cases.map(([flags]) => zart(["list", ...flags], env)));
    for (const [i, run] of runs.entries()) {
      const [flags, message] = cases[i] as [string[], RegExp];
      assert.equal(run.code, 2, `${flags.join(" ")}: ${run.err}`);
      assert.equal(run.out, "");
      assert.match(run.err, message, flags.join(" "));
    }
    const fine = await zart(["list", "--limit", "1", "--offset", "0"], env);
    assert.equal(fine.code, 0, fine.err);
  });
});
