/**
 * Long-polls at scale and graceful shutdown, on a real `zart-server`:
 * 2,000 concurrent `GET /wait` requests all answer 200 when their executions end; SIGTERM answers an
 * open long-poll with 202 and the process exits 0, leaving the execution to resume after a restart.
 */
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import { rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { after, before, describe, it } from "node:test";
import { call, eventually, type ServerProcess, startServer } from "./support/server-process.js";

const WAITERS = 2000;
let server: ServerProcess;
let api: string;

before(async () => {
  // Each waiter holds a socket at both ends (this process and the server share the limit's value).
  const limit = Number(execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim());
  if (Number.isFinite(limit) && limit < 2 * WAITERS + 500) {
    throw new Error(
      `open-file limit ${limit} is too low for ${WAITERS} long-polls: run \`ulimit -n ${2 * WAITERS + 500}\` (or higher) first`,
    );
  }
  server = await startServer();
  api = `${server.url}/api/v1`;
});

after(async () => {
  if (server === undefined) return; // the limit check in before() failed
  if (server.child.exitCode === null) await server.stop();
  rmSync(server.dir, { recursive: true, force: true });
});

/** A long-poll over node:http with its own socket (fetch's pool would queue 2,000 requests). */
function longPoll(agent: Agent, url: string): Promise<{ status: number; body: Record<string, unknown>; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
          connection: res.headers.connection,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

async function metricValue(name: string): Promise<number> {
  const text = (await call(`${server.url}/metrics`)).text;
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1]);
}

describe("long-polls", () => {
  it(`serves ${WAITERS} concurrent long-polls and answers each with 200 when its execution ends`, async () => {
    const indexes = Array.from({ length: WAITERS }, (_, i) => i);
    const ids = await inBatches(indexes, 100, async (i) => {
      const r = await call(`${api}/executions`, { json: { task: "onboarding", data: { user_id: `lp${i}`, email: `lp${i}@example.com` } } });
      assert.equal(r.status, 201);
      return (r.body as { execution_id: string }).execution_id;
    });
    await eventually(
      async () => ((await call(`${api}/stats`)).body as { waiting: number }).waiting === WAITERS || undefined,
      60_000,
      "all waiting",
    );

    const agent = new Agent({ keepAlive: true, maxSockets: WAITERS + 10 });
    const polls = ids.map((id) => longPoll(agent, `${api}/executions/${id}/wait?timeout=120`));
    await eventually(
      async () => ((await metricValue("zart_http_open_long_polls")) === WAITERS ? true : undefined),
      30_000,
      "all long-polls open",
    );

    await inBatches(ids, 100, async (id) => {
      const r = await call(`${api}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "load" } });
      assert.equal(r.status, 200);
    });
    const results = await Promise.all(polls);
    agent.destroy();
    assert.equal(results.filter((r) => r.status === 200 && r.body.status === "completed").length, WAITERS);
    assert.equal(await metricValue("zart_http_open_long_polls"), 0);
  });

  it("a client that disconnects frees its waiter at once", async () => {
    const r = await call(`${api}/executions`, { json: { task: "onboarding", data: { user_id: "gone", email: "gone@example.com" } } });
    const id = (r.body as { execution_id: string }).execution_id;
    const controller = new AbortController();
    const poll = fetch(`${api}/executions/${id}/wait?timeout=60`, { signal: controller.signal }).catch(() => "aborted");
    await eventually(async () => ((await metricValue("zart_http_open_long_polls")) === 1 ? true : undefined), 10_000, "poll open");
    controller.abort();
    assert.equal(await poll, "aborted");
    await eventually(async () => ((await metricValue("zart_http_open_long_polls")) === 0 ? true : undefined), 5_000, "waiter freed");
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM answers an open long-poll with 202 and exits 0; the execution resumes after a restart", async () => {
    // A client that keeps its connection alive (as fetch does): the answer, written after the server stopped
    // listening, must close the connection, or it holds the server's close until the shutdown watchdog.
    const r = await call(`${api}/executions`, { json: { task: "onboarding", data: { user_id: "term", email: "term@example.com" } } });
    const id = (r.body as { execution_id: string }).execution_id;
    await eventually(async () => ((await call(`${api}/executions/${id}`)).body as { status: string }).status === "waiting" || undefined);
    const agent = new Agent({ keepAlive: true });
    const poll = longPoll(agent, `${api}/executions/${id}/wait?timeout=600`);
    await eventually(async () => ((await metricValue("zart_http_open_long_polls")) === 1 ? true : undefined), 10_000, "poll open");
    const started = Date.now();
    server.child.kill("SIGTERM");
    const answer = await poll;
    assert.equal(answer.status, 202);
    assert.equal(answer.body.status, "waiting");
    assert.equal(answer.body.message, "Timeout reached. Execution is still running.");
    assert.equal(answer.connection, "close");
    assert.equal(await server.exited, 0);
    assert.ok(Date.now() - started < 15_000);
    assert.ok(server.output.some((l) => l.includes("stopped")));

    const again = await startServer({ dir: server.dir });
    try {
      const base = `${again.url}/api/v1`;
      assert.equal((await call(`${base}/events/${id}/manager-approval`, { json: { approved: true, reviewer: "after" } })).status, 200);
      const done = await call(`${base}/executions/${id}/wait?timeout=10`);
      assert.deepEqual((done.body as { output: unknown }).output, { customer_id: "cus_term" });
    } finally {
      assert.equal(await again.stop(), 0);
    }
  });
});
