/**
 * Failure paths a healthy engine cannot be made to produce from outside: an unexpected error
 * (500 internal_error with the request id, logged, no details leaked) and a store that does not
 * answer (/readyz 503). These use the in-memory API with fastify's inject; every other route is
 * tested black-box against the real server process.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import pino from "pino";
import { buildServer } from "../src/server/app.js";
import { MemoryApi } from "./support/memory-api.js";

class BrokenApi extends MemoryApi {
  override async get(): Promise<never> {
    throw new Error("SQLITE_CORRUPT: database disk image is malformed at SELECT * FROM executions");
  }
  override async ready(): Promise<void> {
    throw new Error("connection refused");
  }
}

describe("unexpected failures", () => {
  it("answer 500 internal_error naming the request id, log it, and leak nothing", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const server = await buildServer(
      new BrokenApi({ echo: null }),
      { tokens: ["t"], bodyLimit: 1024, metricsPublic: false },
      pino({ level: "info" }, sink),
    );
    try {
      const r = await server.app.inject({ url: "/api/v1/executions/exec-0000000000000000", headers: { authorization: "Bearer t" } });
      assert.equal(r.statusCode, 500);
      const body = r.json() as { error: { code: string; message: string } };
      assert.equal(body.error.code, "internal_error");
      const requestId = r.headers["x-request-id"] as string;
      assert.ok(requestId && body.error.message.includes(requestId));
      assert.doesNotMatch(r.body, /SQLITE|SELECT|at .*\.ts/);
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const error = logged.find((l) => l.msg === "internal error");
      assert.equal(error?.reqId, requestId);
      assert.match(JSON.stringify(error), /SQLITE_CORRUPT/);
      assert.ok(logged.some((l) => l.msg === "request" && l.status === 500 && l.reqId === requestId));
      assert.ok(!lines.join("").includes("Bearer t"));

      const ready = await server.app.inject({ url: "/readyz" });
      assert.equal(ready.statusCode, 503);
      assert.equal((ready.json() as { error: { code: string } }).error.code, "store_unavailable");
      assert.equal((await server.app.inject({ url: "/healthz" })).statusCode, 200);
    } finally {
      await server.close();
    }
  });
});
