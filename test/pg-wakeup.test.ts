/**
 * Cross-process wake-ups and graceful shutdown on PostgreSQL, with real processes: an API-only server (A)
 * and worker processes whose safety poll is one hour, so the only thing that can wake them within the
 * test's bounds is LISTEN/NOTIFY. A's own long-poll waiters re-check the store only every 5 s (its default),
 * so a long-poll that answers well within that was woken by the worker's NOTIFY too.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { withTimeout } from "./support/child-process.js";
import { adminQuery, markPostgresRan, TestSchema } from "./support/postgres.js";
import {
  databaseUrl,
  killAll,
  request,
  type ServerProcess,
  startApiServer,
  startWorker,
  writeConfig,
  type ZartProcess,
} from "./support/processes.js";
import { eventually } from "./support/server-process.js";

const MP_TASKS = "test/fixtures/mp-tasks.ts";
const SLOW_TASKS = "test/fixtures/mp-slow-tasks.ts";
/** Well below A's 5 s safety re-check and B's 1 h safety poll: only notifications get anything done this fast. */
const NOTIFY_BOUND_MS = 3000;

const schema = new TestSchema("wake");
const dir = mkdtempSync(join(tmpdir(), "zart-pg-wake-"));
const database = databaseUrl(schema.name, 3);
// No safety poll within the test's lifetime; the lease stays at its 30 s default so that a release that
// waited for lease expiry could not pass the shutdown test's bound.
const noPollConfig = writeConfig(dir, "no-poll.json", { worker: { safetyPoll: "1h", shutdownGrace: "1s" } });
const processes: ZartProcess[] = [];
let api: ServerProcess;

function errorCode(body: Record<string, unknown>): string | undefined {
  return (body.error as { code?: string } | undefined)?.code;
}

async function schedule(task: string): Promise<string> {
  const reply = await request(`${api.url}/api/v1/executions`, { json: { task, data: {} } });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body.execution_id as string;
}

/** Long-polls on A (1 s at a time) until the execution reports `status`; bounded. */
async function waitForStatus(id: string, status: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await request(`${api.url}/api/v1/executions/${id}/wait?timeout=1`);
    if (reply.body.status === status) return;
    assert.ok(reply.status === 202, `${id} ended while waiting for ${status}: ${JSON.stringify(reply.body)}`);
    if (Date.now() > deadline) assert.fail(`${id} did not reach ${status} within ${timeoutMs} ms (last: ${reply.body.status})`);
  }
}

/** The API server's count of open long-polls, from /metrics. */
async function openLongPolls(): Promise<number> {
  const reply = await request(`${api.url}/metrics`);
  const match = /^zart_http_open_long_polls (\d+)/m.exec(String(reply.body.text));
  assert.ok(match, "metrics report open long-polls");
  return Number(match[1]);
}

/**
 * Resolves once A holds a long-poll open. A is another process and tells nothing when a request reaches
 * its handler, so this reads its metrics every 25 ms (bounded) instead of waiting on an event.
 */
function longPollOpen(): Promise<true> {
  return eventually(async () => ((await openLongPolls()) >= 1 ? true : undefined), 10_000, "the long-poll to reach A");
}

/**
 * A worker (C1) holds `task` in the middle of its 60 s step; SIGTERM must release it within the 1 s grace
 * (not after the 30 s lease): pending, no lease owner, runnable now. A second worker (C2, short steps)
 * then finishes it.
 */
async function sigtermReleases(task: "slow" | "stubborn"): Promise<void> {
  const first = await startWorker({ database, tasks: [SLOW_TASKS], config: noPollConfig, label: `C1 (${task})` });
  processes.push(first);
  const id = await schedule(task);
  await first.waitForLine((line) => line === `${task}-start ${id} ${first.pid}`, `${task}-start ${id}`, 10_000);
  const held = await request(`${api.url}/api/v1/executions/${id}`);
  assert.equal(held.body.status, "running");

  const signalled = Date.now();
  const exit = await first.stop(15_000);
  assert.equal(exit.code, 0, first.tail());
  assert.ok(Date.now() - signalled < 10_000, `exited ${Date.now() - signalled} ms after SIGTERM (grace 1 s)`);
  // The step was still running when the grace period ended: its signal told it to stop.
  if (task === "slow") assert.ok(first.lines.includes(`slow-aborted ${id} ${first.pid}`), first.tail());

  // Released, not merely abandoned: pending, no lease owner, runnable now.
  const released = await request(`${api.url}/api/v1/executions/${id}`);
  assert.equal(released.body.status, "pending", JSON.stringify(released.body));
  const [row] = await adminQuery<{ lease_owner: string | null; runnable_at: number | null }>(
    `SELECT lease_owner, runnable_at::float8 AS runnable_at FROM ${schema.name}.executions WHERE id = $1`,
    [id],
  );
  assert.equal(row?.lease_owner, null);
  assert.ok(row?.runnable_at !== null && row !== undefined && row.runnable_at <= Date.now(), `runnable at ${row?.runnable_at}`);

  const second = await startWorker({
    database,
    tasks: [SLOW_TASKS],
    config: noPollConfig,
    env: { ZART_SLOW_STEP_MS: "10" },
    label: `C2 (${task})`,
  });
  processes.push(second);
  const done = await withTimeout(
    request(`${api.url}/api/v1/executions/${id}/wait?timeout=20`, { timeoutMs: 25_000 }),
    30_000,
    "C2 to finish",
  );
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.status, "completed");
  assert.deepEqual(done.body.output, { finishedBy: second.pid });
  const total = Date.now() - signalled;
  assert.ok(total < 20_000, `finished ${total} ms after SIGTERM, long before the 30 s lease would have expired`);
  // Out of the way of the next test, which needs its own worker to hold its execution.
  assert.equal((await second.stop()).code, 0, second.tail());
}

describe("PostgreSQL cross-process wake-ups (worker safety poll: 1 hour)", { timeout: 120_000 }, () => {
  before(async () => {
    // Started together on an empty schema: their migrations race, and must not fail.
    const [server, worker] = await Promise.all([
      startApiServer({ database, label: "A (api only)" }),
      startWorker({ database, tasks: [MP_TASKS], config: noPollConfig, label: "B (worker)" }),
    ]);
    api = server;
    processes.push(server, worker);
    markPostgresRan();
  });

  after(async () => {
    try {
      for (const child of processes.filter((p) => p.running)) {
        const exit = await child.stop();
        assert.equal(exit.code, 0, `${child.label} exits 0 on SIGTERM\n${child.tail()}`);
      }
    } finally {
      await killAll(processes);
      await schema.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an event delivered through A resumes the execution in B; a long-poll opened on A before delivery answers 200", async () => {
    const id = await schedule("approval");
    await waitForStatus(id, "waiting", 15_000);

    const longPoll = request(`${api.url}/api/v1/executions/${id}/wait?timeout=30`, { timeoutMs: 40_000 });
    await longPollOpen();

    const delivered = Date.now();
    const delivery = await request(`${api.url}/api/v1/events/${id}/approve`, { json: { ok: true } });
    assert.equal(delivery.status, 200, JSON.stringify(delivery.body));
    assert.equal(delivery.body.status, "delivered");

    const done = await longPoll;
    const elapsed = Date.now() - delivered;
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, "completed");
    assert.deepEqual(done.body.output, { ok: true });
    assert.ok(elapsed < NOTIFY_BOUND_MS, `delivery to long-poll answer took ${elapsed} ms`);
  });

  it("a new execution scheduled on A is picked up by B at once", async () => {
    const id = await schedule("approval");
    await waitForStatus(id, "waiting", 10_000);
    // Measured by the store's own clock: from creation (A) to the first claim (B).
    const status = await request(`${api.url}/api/v1/executions/${id}`);
    const pickup = Date.parse(String(status.body.started_at)) - Date.parse(String(status.body.created_at));
    assert.ok(pickup >= 0 && pickup < NOTIFY_BOUND_MS, `B started the new execution ${pickup} ms after it was created`);
    // And A still refuses a task no worker registered (B registered only mp-tasks).
    const unknown = await request(`${api.url}/api/v1/executions`, { json: { task: "slow", data: {} } });
    assert.equal(unknown.status, 422);
    assert.equal(errorCode(unknown.body), "task_not_registered");
  });

  it("after their LISTEN connections are cut, A and B listen again: wake-ups still need no polling", async () => {
    // Cut only the LISTEN connections: the pools stay, so nothing but the listeners' own reconnect helps.
    assert.equal(await schema.terminate("listener"), 2, "A's and B's LISTEN connections were cut");
    // The listeners belong to other processes, which say nothing when they reconnect (at log level warn):
    // PostgreSQL's view of its sessions is read every 25 ms until both are back (bounded).
    await eventually(
      async () => {
        const [row] = await adminQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
          `zart-listen:${schema.name}`,
        ]);
        return row?.n === 2 ? true : undefined;
      },
      15_000,
      "A's and B's listeners to reconnect",
    );

    const id = await schedule("approval");
    await waitForStatus(id, "waiting", 10_000);
    const status = await request(`${api.url}/api/v1/executions/${id}`);
    const pickup = Date.parse(String(status.body.started_at)) - Date.parse(String(status.body.created_at));
    assert.ok(pickup >= 0 && pickup < NOTIFY_BOUND_MS, `B started the new execution ${pickup} ms after it was created`);

    const longPoll = request(`${api.url}/api/v1/executions/${id}/wait?timeout=30`, { timeoutMs: 40_000 });
    await longPollOpen();
    const delivered = Date.now();
    assert.equal((await request(`${api.url}/api/v1/events/${id}/approve`, { json: { ok: false } })).status, 200);
    const done = await longPoll;
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body.output, { ok: false });
    assert.ok(Date.now() - delivered < NOTIFY_BOUND_MS, `delivery to long-poll answer took ${Date.now() - delivered} ms`);
  });

  it("SIGTERM releases a running execution at once (not after its 30 s lease); another worker finishes it", () => sigtermReleases("slow"));

  it("SIGTERM releases it at once also when the step ignores its signal", () => sigtermReleases("stubborn"));

  it("a cancel through A reaches the running step in another process through its signal", async () => {
    const worker = await startWorker({ database, tasks: [SLOW_TASKS], config: noPollConfig, label: "C3 (slow worker)" });
    processes.push(worker);
    const id = await schedule("slow");
    await worker.waitForLine((line) => line === `slow-start ${id} ${worker.pid}`, `slow-start ${id}`, 10_000);
    const cancelled = Date.now();
    const reply = await request(`${api.url}/api/v1/executions/${id}/cancel`, { method: "POST" });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.status, "cancelled");
    await worker.waitForLine((line) => line === `slow-aborted ${id} ${worker.pid}`, `slow-aborted ${id}`, NOTIFY_BOUND_MS);
    assert.ok(Date.now() - cancelled < NOTIFY_BOUND_MS, "the step was told at once, not at its next lease renewal");
    const after = await request(`${api.url}/api/v1/executions/${id}`);
    assert.equal(after.body.status, "cancelled");
    assert.equal(after.body.output, null);
  });
});
