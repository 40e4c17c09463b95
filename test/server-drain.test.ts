/**
 * SIGTERM while a request is still arriving, on a real `zart-server`: the request is answered, and the
 * kept-alive connection it came on does not hold the shutdown. Node's `server.close()` closes only the
 * connections idle at that moment; one that became idle later (its answer written after the close began,
 * or its request body read to its end after an early answer) stayed open until its keep-alive timeout,
 * past the shutdown watchdog, and the server exited 1 instead of 0.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openRawConnection } from "./support/raw-http.js";
import { startServer } from "./support/server-process.js";

const TOKEN = "drain-token";

function postHead(length: number, token?: string, extra = ""): string {
  return (
    "POST /api/v1/executions HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n" +
    `${token ? `Authorization: Bearer ${token}\r\n` : ""}${extra}Content-Length: ${length}\r\n\r\n`
  );
}

/** A short grace: a shutdown held by a connection fails in seconds (exit 1 from the watchdog). */
const configDirs: string[] = [];
function graceConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "zart-drain-"));
  configDirs.push(dir);
  const path = join(dir, "grace.json");
  writeFileSync(path, JSON.stringify({ worker: { shutdownGrace: "1s" } }));
  return path;
}

after(() => {
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true });
});

describe("draining with requests in flight", () => {
  it("a request whose body is still arriving at SIGTERM gets its answer, and the server then exits 0", async () => {
    const server = await startServer({ env: { ZART_API_TOKEN: TOKEN }, args: ["--config", graceConfig()] });
    const body = JSON.stringify({ task: "echo", data: { in_flight: true } });
    const split = Math.floor(body.length / 2);
    const conn = openRawConnection(Number(new URL(server.url).port));
    // `Expect: 100-continue`: the server's "100 Continue" says the request is in, before any of its body.
    conn.socket.write(postHead(Buffer.byteLength(body), TOKEN, "Expect: 100-continue\r\n"));
    await conn.receivedText("100 Continue");
    conn.socket.write(body.slice(0, split));
    server.child.kill("SIGTERM");
    await server.waitForLine((line) => line.includes("SIGTERM received, draining"), "the drain to begin");
    conn.socket.write(body.slice(split));
    await conn.closed;
    assert.match(conn.received(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
    assert.equal(await server.exited, 0, "the kept-alive connection held the shutdown");
    await server.stop(); // exited already: only removes its directory
  });

  it("a body still being read after an early 401 does not hold the shutdown either", async () => {
    const server = await startServer({ env: { ZART_API_TOKEN: TOKEN }, args: ["--config", graceConfig()] });
    const body = JSON.stringify({ task: "echo", data: { blob: "x".repeat(256 * 1024) } });
    const conn = openRawConnection(Number(new URL(server.url).port));
    conn.socket.write(postHead(Buffer.byteLength(body)) + body.slice(0, 1024));
    // The answer comes before the body: the server reads (and discards) the rest to keep the connection.
    await conn.receivedText("\r\n\r\n");
    assert.match(conn.received(), /^HTTP\/1\.1 401 /);
    server.child.kill("SIGTERM");
    await server.waitForLine((line) => line.includes("SIGTERM received, draining"), "the drain to begin");
    conn.socket.write(body.slice(1024));
    await conn.closed;
    assert.equal(await server.exited, 0, "the kept-alive connection held the shutdown");
    await server.stop(); // exited already: only removes its directory
  });
});
