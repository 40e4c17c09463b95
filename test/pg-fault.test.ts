/**
 * Faults with real processes on PostgreSQL: while a few hundred `chain` executions are in flight, every
 * database connection of this test's Zart processes is terminated (pools and LISTEN connections) and the
 * API server is SIGKILLed and started again, while more executions are being scheduled. The client behaves
 * as a careful client should: every request carries an idempotency key, and a request that failed or got
 * no answer is repeated with the same key. Checked: every acknowledged execution (201, or 200 for a
 * repeat) completes with the right output, the repeats created no duplicates, the workers survived and
 * listen again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { withTimeout } from "./support/child-process.js";
import { adminQuery, markPostgresRan, TestSchema } from "./support/postgres.js";
import {
  databaseUrl,
  inParallel,
  killAll,
  request,
  type ServerProcess,
  startApiServer,
  startWorker,
  writeConfig,
  type ZartProcess,
} from "./support/processes.js";

/** Scheduled before the workers run, so that a few hundred executions are in flight when the fault hits. */
const BACKLOG = 250;
/** Scheduled while the fault happens (through the API server's restart). */
const DURING_FAULT = 100;
const EXECUTIONS = BACKLOG + DURING_FAULT;
const IN_FLIGHT = 20;
const TASKS = "test/fixtures/mp-tasks.ts";
const MAX_ATTEMPTS = 200;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}

test("terminated backends and an API server restart mid-run: every acknowledged execution completes", { timeout: 120_000 }, async (t) => {
  const schema = new TestSchema("fault");
  const dir = mkdtempSync(join(tmpdir(), "zart-pg-fault-"));
  const database = databaseUrl(schema.name, 4);
  // A claim or checkpoint cut off by the fault is retried or left to lease expiry: 5 s keeps the run short.
  // The 2 s safety poll covers notices lost with the dropped connections (the documented design).
  const workerConfig = writeConfig(dir, "worker.json", { worker: { leaseTime: "5s", safetyPoll: "2s" } });
  const processes: ZartProcess[] = [];
  const startChainWorker = async (label: string) => {
    const worker = await startWorker({ database, tasks: [TASKS], config: workerConfig, label });
    processes.push(worker);
    return worker;
  };
  try {
    // All three at once on an empty schema: their migrations race, and must not fail.
    const [firstApi, ...workers] = await Promise.all([
      startApiServer({ database, label: "api" }),
      startChainWorker("worker-1"),
      startChainWorker("worker-2"),
    ]);
    processes.push(firstApi);
    markPostgresRan();

    // Requests go to whichever API server is current; during the restart they wait for the new one.
    let current: Promise<ServerProcess> = Promise.resolve(firstApi);
    const ids: string[] = new Array(EXECUTIONS);
    let created = 0;
    // Requests sent to the API server while it is frozen (SIGSTOP) are certainly unanswered when it dies.
    let apiFrozen = false;
    let sentToFrozenApi = 0;
    let fiveSentToFrozenApi: () => void = () => {};
    const fiveSent = new Promise<void>((resolve) => {
      fiveSentToFrozenApi = resolve;
    });
    const onSentToFrozenApi = () => {
      sentToFrozenApi += 1;
      if (sentToFrozenApi === 5) fiveSentToFrozenApi();
    };
    let repeats = 0;
    const scheduleAll = (indices: readonly number[], onAcknowledged: () => void = () => {}) =>
      inParallel(indices, IN_FLIGHT, async (i) => {
        for (let attempt = 1; ; attempt += 1) {
          assert.ok(attempt <= MAX_ATTEMPTS, `schedule ${i}: no acknowledgement after ${MAX_ATTEMPTS} attempts`);
          const server = await current;
          if (server === firstApi && apiFrozen) onSentToFrozenApi();
          let reply: { status: number; body: Record<string, unknown> } | null = null;
          try {
            reply = await request(`${server.url}/api/v1/executions`, {
              json: { task: "chain", data: { i }, idempotency_key: `fault-${i}` },
              timeoutMs: 10_000,
            });
          } catch {
            // No answer (server killed, connection reset): the outcome is unknown, so repeat with the same key.
          }
          if (reply && (reply.status === 201 || reply.status === 200)) {
            ids[i] = reply.body.execution_id as string;
            if (reply.status === 201) created += 1;
            if (attempt > 1) repeats += 1;
            onAcknowledged();
            return;
          }
          // A 503 (store unavailable) may be repeated too; anything else is a wrong answer.
          if (reply) assert.equal(reply.status, 503, `schedule ${i}: ${JSON.stringify(reply.body)}`);
          // Client-side backoff between repeats, so a restarting server is not hammered.
          await delay(20 * Math.min(attempt, 10));
        }
      });

    // The workers are frozen (like a paused VM) while the backlog is scheduled, then thawed together, so a
    // few hundred executions are in flight when the fault strikes a moment later.
    for (const worker of workers) worker.child.kill("SIGSTOP");
    await scheduleAll(range(0, BACKLOG));
    for (const worker of workers) worker.child.kill("SIGCONT");
    await workers[0]!.waitForLine((line) => line.startsWith("start "), "10 step starts", 30_000, 10);
    const [unfinished] = await adminQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${schema.name}.executions WHERE status IN ('pending', 'running')`,
    );
    // Only this test's processes (its schema is in their application_name), not other test files' ones.
    const terminated = await adminQuery<{ kind: string; n: number }>(
      `WITH victims AS MATERIALIZED (
         SELECT pid, application_name FROM pg_stat_activity
         WHERE application_name IN ($1, $2) AND pid <> pg_backend_pid())
       SELECT application_name AS kind, count(*)::int AS n FROM victims WHERE pg_terminate_backend(pid) GROUP BY 1`,
      [`zart:${schema.name}`, `zart-listen:${schema.name}`],
    );
    // More requests start right after the cut: the API server must answer them on fresh connections. After
    // 10 of them are acknowledged it is frozen, and once 5 more requests were sent to it (so they are surely
    // unanswered) it is SIGKILLed and started again.
    let acknowledgedAfterCut = 0;
    let restarted: Promise<void> | null = null;
    const restartApi = async () => {
      firstApi.child.kill("SIGSTOP");
      apiFrozen = true;
      await withTimeout(fiveSent, 15_000, "requests to the frozen API server");
      current = (async () => {
        await firstApi.killHard();
        const fresh = await startApiServer({ database, label: "api (restarted)" });
        processes.push(fresh);
        return fresh;
      })();
      await current;
    };
    await scheduleAll(range(BACKLOG, EXECUTIONS), () => {
      acknowledgedAfterCut += 1;
      if (acknowledgedAfterCut === 10) restarted = restartApi();
    });
    await restarted;
    const api = await current;
    assert.notEqual(api, firstApi, "the API server was restarted");

    assert.ok((unfinished?.n ?? 0) >= 50, `work was in flight at the fault: ${unfinished?.n} unfinished`);
    assert.ok(repeats >= 5, `the requests cut off by the kill were repeated (${repeats})`);
    const byKind = new Map(terminated.map((row) => [row.kind, row.n]));
    // Each process has exactly one LISTEN connection: all three were cut, and pooled ones as well.
    assert.equal(byKind.get(`zart-listen:${schema.name}`), 3, JSON.stringify(terminated));
    assert.ok((byKind.get(`zart:${schema.name}`) ?? 0) > 0, JSON.stringify(terminated));

    await inParallel(ids, IN_FLIGHT, async (id, i) => {
      const done = await request(`${api.url}/api/v1/executions/${id}/wait?timeout=60`, { timeoutMs: 70_000 });
      assert.equal(done.status, 200, `${id} (i=${i}) finished: ${JSON.stringify(done.body)}`);
      assert.equal(done.body.status, "completed", `${id} (i=${i})`);
      assert.equal(done.body.output, (i + 1) * 2 - 1, `${id} (i=${i}) output`);
    });

    // Repeats with the same key created nothing new: exactly one execution per key, all completed. (Fewer
    // than EXECUTIONS 201s is fine: a first attempt can commit and lose its reply; the repeat then gets 200.)
    assert.ok(created <= EXECUTIONS);
    assert.equal(new Set(ids).size, EXECUTIONS);
    assert.equal((await request(`${api.url}/api/v1/executions?limit=1`)).body.total, EXECUTIONS);
    assert.equal((await request(`${api.url}/api/v1/executions?status=completed&limit=1`)).body.total, EXECUTIONS);

    // The workers survived the fault and listen again (one LISTEN connection per live process).
    for (const worker of workers) assert.ok(worker.running, `${worker.label} still runs\n${worker.tail()}`);
    const listeners = await adminQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [
      `zart-listen:${schema.name}`,
    ]);
    assert.equal(listeners[0]?.n, 3);
    t.diagnostic(
      `${unfinished?.n} executions unfinished at the fault; terminated ${JSON.stringify(terminated)}; ` +
        `${repeats} schedule requests were repeated; ${created} got 201`,
    );

    for (const child of [api, ...workers]) {
      const exit = await child.stop();
      assert.equal(exit.code, 0, `${child.label} exits 0 on SIGTERM\n${child.tail()}`);
    }
  } finally {
    await killAll(processes);
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
