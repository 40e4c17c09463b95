/**
 * Every HTTP response has its request log line and its observation in
 * `zart_http_request_duration_seconds`, including the URLs the router cannot take apart (bad
 * percent-encoding, an over-long parameter), which fastify answers before any hook runs.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import pino from "pino";
import { buildServer } from "../src/server/app.js";
import { createTestEngine } from "../src/testing/index.js";

test("URLs the router cannot parse are logged and counted like any other response", async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.startsWith("{")) lines.push(JSON.parse(line));
      done();
    },
  });
  const h = await createTestEngine({ tasks: [] });
  const server = await buildServer(h.engine, { tokens: [], bodyLimit: 1 << 20, metricsPublic: false }, pino({ level: "info" }, sink));
  try {
    const urls = [
      "/api/v1/executions/%E0%A4%A",
      "/api/v1/stats/%zz",
      `/api/v1/events/${"y".repeat(1100)}/go`,
      "/api/v1/executions/exec-nothere",
    ];
    const statuses: number[] = [];
    for (const url of urls) {
      const reply = await server.app.inject({ method: url.includes("/events/") ? "POST" : "GET", url });
      statuses.push(reply.statusCode);
    }
    assert.deepEqual(statuses, [404, 400, 404, 404]);
    const requests = lines.filter((line) => line.msg === "request");
    assert.equal(requests.length, urls.length, JSON.stringify(requests));
    for (const [i, line] of requests.entries()) {
      assert.equal(line.status, statuses[i]);
      assert.equal(typeof line.reqId, "string");
    }
    const text = (await server.metrics.render()).text;
    const counted = text
      .split("\n")
      .filter((line) => line.startsWith("zart_http_request_duration_seconds_count"))
      .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    assert.equal(counted, urls.length, text);
  } finally {
    await server.close();
    await h.close();
  }
});
