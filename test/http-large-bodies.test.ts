/**
 * Oversized request bodies get a readable answer in the contract's error shape. Node's fetch writes the
 * whole body before it reads the response, so a server that answered 413 and hung up at once left it
 * with EPIPE (here: about half of the 16 MiB requests, and 7 in 10 of the 2 MiB ones on a slower
 * machine). The server now reads an oversized body to its end before answering; only a body declared
 * beyond the drain limit is refused at once, with `Connection: close`. Against a real server process.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { drainLimit } from "../src/server/json-body.js";
import { assertError, JSON_HEADERS } from "./support/http-helpers.js";
import { openRawConnection } from "./support/raw-http.js";
import { call, type ServerProcess, startServer } from "./support/server-process.js";

const TOKEN = "large-bodies-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MIB = 1024 * 1024;

let server: ServerProcess;
let api: string;

before(async () => {
  server = await startServer({ env: { ZART_API_TOKEN: TOKEN } });
  api = `${server.url}/api/v1`;
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

const bodyOf = (mib: number) => JSON.stringify({ task: "echo", data: { blob: "x".repeat(mib * MIB) } });

describe("oversized bodies from Node's fetch", () => {
  const routes = ["/executions", "/executions/exec-aaaaaaaa00/cancel", "/events/exec-aaaaaaaa00/ping"];

  for (const path of routes) {
    test(`POST ${path} with 2 MiB, ten times in a row: 413 every time`, async () => {
      const body = bodyOf(2);
      for (let i = 0; i < 10; i++) {
        assertError(await call(`${api}${path}`, { body, headers: { ...JSON_HEADERS, ...AUTH } }), 413, "payload_too_large");
      }
    });
  }

  test("16 MiB, ten times in a row: 413 every time (EPIPE for about half of them before the drain)", async () => {
    const body = bodyOf(16);
    for (let i = 0; i < 10; i++) {
      assertError(await call(`${api}/executions`, { body, headers: { ...JSON_HEADERS, ...AUTH } }), 413, "payload_too_large");
    }
  });

  test("the checks before the body keep their answers: 401 without a token, 415 for another media type", async () => {
    const body = bodyOf(2);
    for (let i = 0; i < 3; i++) {
      const refused = await call(`${api}/executions`, { body, headers: JSON_HEADERS });
      assertError(refused, 401, "unauthorized");
      assert.equal(refused.headers.get("www-authenticate"), "Bearer");
      assertError(
        await call(`${api}/executions`, { body, headers: { "content-type": "text/plain", ...AUTH } }),
        415,
        "unsupported_media_type",
      );
    }
    // The connection is still usable for a normal request afterwards.
    const ok = await call(`${api}/executions`, { json: { task: "echo", data: { small: true } }, headers: AUTH });
    assert.equal(ok.status, 201);
  });

  test("a body declared beyond the drain limit is refused at once and the connection closed", async () => {
    const conn = openRawConnection(Number(new URL(server.url).port));
    conn.socket.write(
      `POST /api/v1/executions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${drainLimit(MIB) + 1}\r\n\r\n{"task":`,
    );
    await conn.closed;
    const response = conn.received();
    assert.match(response, /^HTTP\/1\.1 413 /);
    assert.match(response, /\r\nconnection: close\r\n/i);
    const body = JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as { error: { code: string } };
    assert.equal(body.error.code, "payload_too_large");
  });
});
