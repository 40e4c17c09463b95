/**
 * What an open long-poll holds, and that it all goes when the poll ends: the deadline queue, the engine's
 * waiters (one timer for every deadline, on a ManualClock) and the HTTP wait route over them, served in
 * this process. A client that goes away must leave no waiter in the engine, no poll in the server and no
 * timer behind.
 */
import assert from "node:assert/strict";
import { Agent, type ClientRequest, get, type Server, type ServerResponse } from "node:http";
import { describe, test } from "node:test";
import fc from "fast-check";
import pino from "pino";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { type Deadline, DeadlineQueue } from "../src/engine/deadline-queue.js";
import { Waiters } from "../src/engine/waiters.js";
import { buildServer } from "../src/server/app.js";
import type { Store } from "../src/store/store.js";
import { createTestEngine, type TestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";
import { serveInProcess } from "./support/in-process-server.js";
import { inbox } from "./support/test-tasks.js";

const NO_STATUSES = { getStatuses: async () => new Map() } as unknown as Store;
/** Long enough that the safety check never runs in these tests: only deadlines and wakes end waits. */
const SAFETY_MS = 1e9;

describe("deadline queue", () => {
  test("first() is always the earliest entry still queued, through any pushes and removals", () => {
    const operation = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ remove: fc.nat() }),
      fc.constant({ shift: true }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const queue = new DeadlineQueue<Deadline>();
        const queued: Deadline[] = [];
        for (const op of operations) {
          if ("push" in op) {
            const entry = { deadline: op.push, slot: -1 };
            queue.push(entry);
            queued.push(entry);
          } else if ("remove" in op && queued.length > 0) {
            const [entry] = queued.splice(op.remove % queued.length, 1);
            assert.ok(queue.remove(entry!));
            assert.ok(!queue.has(entry!) && !queue.remove(entry!), "removed once, and gone");
          } else if ("shift" in op && queued.length > 0) {
            const first = queue.first()!;
            queue.remove(first);
            queued.splice(queued.indexOf(first), 1);
          }
          assert.equal(queue.size, queued.length);
          const earliest = Math.min(...queued.map((e) => e.deadline));
          assert.equal(queue.first()?.deadline ?? Number.POSITIVE_INFINITY, earliest);
          for (const entry of queued) assert.ok(queue.has(entry));
        }
      }),
    );
  });
});

describe("waiters", () => {
  test("time out in deadline order off a single timer, and leave no timer once all have ended", async () => {
    const clock = new ManualClock();
    const waiters = new Waiters(NO_STATUSES, clock, silentLogger, SAFETY_MS);
    const late = waiters.wait("a", 3000);
    const early = waiters.wait("b", 1000);
    const middle = waiters.wait("c", 2000);
    assert.equal(clock.pendingTimers(), 2, "one deadline timer and the safety check's, for any number of waiters");
    clock.advance(1000);
    await early.ended;
    assert.equal(waiters.size, 2);
    clock.advance(1000);
    await middle.ended;
    assert.equal(waiters.size, 1);
    waiters.end(late);
    await late.ended;
    assert.equal(waiters.size, 0);
    assert.equal(clock.pendingTimers(), 1, "only the safety check's timer is left");
  });

  test("wake(id) ends every waiter of that execution and no other; end() after that changes nothing", async () => {
    const clock = new ManualClock();
    const waiters = new Waiters(NO_STATUSES, clock, silentLogger, SAFETY_MS);
    const same = Array.from({ length: 100 }, () => waiters.wait("a", 60_000));
    const other = waiters.wait("b", 60_000);
    waiters.wake("a");
    await Promise.all(same.map((w) => w.ended));
    assert.equal(waiters.size, 1);
    for (const w of same) waiters.end(w);
    assert.equal(waiters.size, 1);
    waiters.end(other);
    assert.equal(waiters.size, 0);
  });
});

/**
 * Calls `registered` as each long-poll's wait is registered with the engine (parked or not, a poll waits
 * through `watchTerminal`, which registers before it returns), with a promise that resolves when that wait
 * is over.
 */
function onParkedWait(engine: TestEngine["engine"], registered: (over: Promise<void>) => void): void {
  const watch = engine.watchTerminal.bind(engine);
  engine.watchTerminal = (id, timeoutMs, done) => {
    const over = deferred();
    const stop = watch(id, timeoutMs, (execution) => {
      over.resolve();
      done(execution);
    });
    registered(over.promise);
    return stop;
  };
}

/** An engine serving HTTP with the wait route, whose parked waits the test can await. */
async function servedEngine() {
  const h = await createTestEngine({ tasks: [inbox], worker: false });
  const { api, server } = await serveInProcess(h.engine);
  const waits: Promise<unknown>[] = [];
  const waitFor = (count: number) => {
    const reached = deferred();
    onParkedWait(h.engine, (over) => {
      waits.push(over);
      if (waits.length === count) reached.resolve();
    });
    return reached.promise;
  };
  const close = async () => {
    await server.close();
    await h.close();
  };
  return { h, api, server, waits, waitFor, close };
}

async function pending(h: TestEngine, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await h.engine.schedule({ task: "inbox", data: {} })).execution.id);
  return ids;
}

async function openPollsGauge(metricsText: Promise<{ text: string }>): Promise<number> {
  return Number(/^zart_http_open_long_polls (\d+)/m.exec((await metricsText).text)?.[1]);
}

/** Resolves once `count` responses of `server` have closed (answered, or their client gone). */
function responsesClosed(server: Server, count: number): Promise<void> {
  const all = deferred();
  let closed = 0;
  server.on("request", (_request, response: ServerResponse) => {
    response.on("close", () => {
      if (++closed === count) all.resolve();
    });
  });
  return all.promise;
}

function poll(agent: Agent, url: string): { request: ClientRequest; answer: Promise<{ status: number; body: string }> } {
  let request!: ClientRequest;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request = get(url, { agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
  });
  return { request, answer };
}

describe("GET /executions/:id/wait in this process", () => {
  // `timeout=600` is parked before fastify; `timeout=060` is a spelling parking leaves to the wait route.
  for (const [how, query] of [
    ["parked", "timeout=600"],
    ["served by the route", "timeout=060"],
  ] as const) {
    test(`clients that go away leave no waiter, no open poll and no deadline timer behind (${how})`, async () => {
      await clientsGoAway(query);
    });
  }

  async function clientsGoAway(query: string): Promise<void> {
    const { h, api, server, waits, waitFor, close } = await servedEngine();
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    try {
      const ids = await pending(h, 50);
      const timersBefore = h.clock.pendingTimers();
      const registered = waitFor(ids.length);
      const closed = responsesClosed(server.app.server, ids.length);
      const polls = ids.map((id) => poll(agent, `${api}/executions/${id}/wait?${query}`));
      await registered;
      assert.equal(h.engine.openWaiters(), ids.length);
      for (const { request, answer } of polls) {
        answer.catch(() => {});
        request.destroy();
      }
      // The server has seen every client go: each poll's `close` listener has run, and it ends the
      // engine's waiter there and then.
      await closed;
      assert.equal(h.engine.openWaiters(), 0);
      await Promise.all(waits);
      assert.equal(await openPollsGauge(server.metrics.render()), 0);
      assert.equal(h.clock.pendingTimers(), timersBefore + 1, "the safety check's timer only, no deadline timer");
    } finally {
      agent.destroy();
      await close();
    }
  }

  test("each poll answers 202 at its own timeout, off the shared deadline timer", async () => {
    const { h, api, waits, waitFor, close } = await servedEngine();
    const agent = new Agent({ keepAlive: false });
    try {
      const [a, b] = await pending(h, 2);
      const registered = waitFor(2);
      const short = poll(agent, `${api}/executions/${a}/wait?timeout=5`);
      const long = poll(agent, `${api}/executions/${b}/wait?timeout=10`);
      await registered;
      h.clock.advance(5000);
      const first = await short.answer;
      assert.equal(first.status, 202);
      assert.equal(JSON.parse(first.body).execution_id, a);
      assert.equal(h.engine.openWaiters(), 1, "the 10 s poll is still waiting");
      h.clock.advance(5000);
      const second = await long.answer;
      assert.equal(second.status, 202);
      assert.equal(JSON.parse(second.body).execution_id, b);
      await Promise.all(waits);
      assert.equal(h.engine.openWaiters(), 0);
    } finally {
      agent.destroy();
      await close();
    }
  });

  test("a plain poll waits before fastify sees it, then the wait route answers it; refused or unusual polls go to the route at once", async () => {
    const h = await createTestEngine({ tasks: [inbox], worker: false });
    const lines: { reqId?: string; route?: string; status?: number; ms?: number; msg?: string }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const server = await buildServer(h.engine, { tokens: ["secret"], bodyLimit: 1 << 20, metricsPublic: false }, logger);
    const base = `${await server.app.listen({ host: "127.0.0.1", port: 0 })}/api/v1`;
    const agent = new Agent({ keepAlive: false });
    // Resolves once the engine has registered the next parked wait.
    let registeredNext = deferred();
    onParkedWait(h.engine, () => registeredNext.resolve());
    const nextWait = () => {
      registeredNext = deferred();
      return registeredNext.promise;
    };
    const withToken = (url: string) => {
      let request!: ClientRequest;
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        request = get(url, { agent, headers: { authorization: "Bearer secret" } }, (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on("error", reject);
      });
      return answer;
    };
    try {
      const [a, b, c] = (await pending(h, 3)) as [string, string, string];
      const registered = nextWait();
      const parked = withToken(`${base}/executions/${a}/wait?timeout=600`);
      await registered;
      // The poll was parked by now: from here on its time is all parked time.
      const opened = performance.now();
      // A request that enters fastify after the poll was opened gets the first request id: the poll has not entered.
      assert.equal((await withToken(`${base}/executions/${b}`)).status, 200);
      const [status] = lines.filter((l) => l.msg === "request");
      assert.equal(status?.route, "/api/v1/executions/:id");
      const closedAt = performance.now();
      await h.engine.cancel(a);
      const done = await parked;
      assert.equal(done.status, 200);
      assert.equal(JSON.parse(done.body).status, "cancelled");
      const waitLine = lines.find((l) => l.msg === "request" && l.route === "/api/v1/executions/:id/wait");
      assert.ok(waitLine?.reqId !== undefined && status?.reqId !== undefined);
      const order = (reqId: string) => Number.parseInt(reqId.slice(reqId.lastIndexOf("-") + 1), 36);
      assert.ok(
        order(waitLine.reqId) > order(status.reqId),
        `the poll entered fastify after the status read (${waitLine.reqId} vs ${status.reqId})`,
      );
      assert.ok((waitLine.ms ?? 0) >= closedAt - opened, "the logged duration includes the time parked");

      // Without a valid token: 401 at once, from the route's gate, not after the wait.
      const refused = await poll(agent, `${base}/executions/${c}/wait?timeout=600`).answer;
      assert.equal(refused.status, 401);
      // Other spellings go to the route: timeout=0 reads once; an unknown id answers 404 without waiting.
      const once = await withToken(`${base}/executions/${c}/wait?timeout=0`);
      assert.equal(once.status, 202);
      const unknown = await withToken(`${base}/executions/exec-0000000000000000000000000/wait?timeout=600`);
      assert.equal(unknown.status, 404);
      assert.equal(JSON.parse(unknown.body).error.code, "execution_not_found");

      // Draining answers a parked poll, and one the route serves, with the execution's state.
      const drainedRegistered = nextWait();
      const drained = withToken(`${base}/executions/${c}/wait?timeout=600`);
      await drainedRegistered;
      const routedRegistered = nextWait();
      const routed = withToken(`${base}/executions/${b}/wait?timeout=060`);
      await routedRegistered;
      const closing = server.close();
      assert.equal((await drained).status, 202);
      const routedAnswer = await routed;
      assert.deepEqual([routedAnswer.status, JSON.parse(routedAnswer.body).execution_id], [202, b]);
      await closing;
    } finally {
      agent.destroy();
      await server.close().catch(() => {});
      await h.close();
    }
  });
});
