/**
 * One API-only server and three worker processes on one PostgreSQL schema, all real `zart` processes.
 * 2,000 `chain` executions are scheduled over HTTP (about 20 requests in flight); while they run, one
 * worker is SIGKILLed in the middle of a step and a replacement started, and another is stopped with
 * SIGTERM. Checked: every execution completes with the right output, no step recorded before the kill
 * ever runs again (the side-effect file counts every real run), what the dead worker held is taken over,
 * the stopped worker leaves nothing leased to itself, nothing acknowledged is lost or duplicated, and the
 * API-only server validates `task` and `data` from what the workers registered (it gets no `--tasks`;
 * `chain` is not among the bundled examples it loads).
 *
 * Long because it is one scenario: its checks read the same processes, side-effect file and database.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as pause } from "node:timers/promises";
import { deferred } from "./support/deferred.js";
import { freeze, thaw } from "./support/freeze.js";
import { adminQuery, markPostgresRan, TestSchema } from "./support/postgres.js";
import {
  databaseUrl,
  inParallel,
  killAll,
  localTcpPorts,
  request,
  type ServerProcess,
  startApiServer,
  startWorker,
  writeConfig,
  type ZartProcess,
} from "./support/processes.js";

const EXECUTIONS = 2000;
const IN_FLIGHT = 20;
/**
 * The last HELD_BACK executions are scheduled only after the kill, so the kill lands while executions are
 * still arriving however many freezes it takes to catch the victim mid-step (at most KILL_TRIES ×
 * STARTS_PER_TRY of its step starts, fewer than the executions scheduled before it bring).
 */
const HELD_BACK = 200;
/**
 * When the victim is killed: it is frozen (SIGSTOP) after every STARTS_PER_TRY of its step starts and
 * killed at the first such moment at which it is mid-step (holds a running execution with a step started
 * and not recorded); otherwise thawed. Executions take only milliseconds and the test reads the victim's
 * output a little behind, so "after some start lines" alone can land while the victim holds nothing, and
 * such a kill would test nothing.
 */
const STARTS_PER_TRY = 40;
const KILL_TRIES = 25;
const TASKS = "test/fixtures/mp-tasks.ts";
const WORKER_CONCURRENCY = 50;
const VICTIM_LEASE_MS = 20_000;

test("API-only server + 3 workers: SIGKILL a worker mid-run; 2,000 executions complete, recorded steps never re-run", {
  timeout: 300_000,
}, async (t) => {
  const schema = new TestSchema("mp");
  const dir = mkdtempSync(join(tmpdir(), "zart-pg-mp-"));
  const effects = join(dir, "effects.log");
  writeFileSync(effects, "");
  // A short lease, so the killed worker's executions are resumed within seconds rather than 30 s; a tiny
  // shutdown grace, so the worker stopped with SIGTERM releases what it holds instead of finishing it.
  const workerConfig = writeConfig(dir, "worker.json", {
    worker: { leaseTime: "5s", shutdownGrace: "1ms", concurrency: WORKER_CONCURRENCY },
  });
  // The victim's lease outlasts every freeze below. Each freeze lasts a few queries, but on a loaded
  // machine those took up to 8 s: with a 5 s lease another worker then took over a frozen step and
  // recorded it, and the frozen victim's earlier run of it counted as a second run of a recorded step.
  // That is at-least-once inside a lapsed lease, as documented, not what this test is after.
  const victimConfig = writeConfig(dir, "victim.json", {
    worker: { leaseTime: `${VICTIM_LEASE_MS / 1000}s`, shutdownGrace: "1ms", concurrency: WORKER_CONCURRENCY },
  });
  const database = databaseUrl(schema.name, 4);
  const processes: ZartProcess[] = [];
  const startChainWorker = async (label: string, config = workerConfig) => {
    const worker = await startWorker({ database, tasks: [TASKS], config, env: { ZART_EFFECTS_FILE: effects }, label });
    processes.push(worker);
    return worker;
  };
  try {
    const api: ServerProcess = await startApiServer({ database, label: "api" });
    processes.push(api);
    markPostgresRan();
    const executions = `${api.url}/api/v1/executions`;

    // Before any worker registered `chain`, the API-only server must not know it (it has no `--tasks`).
    const early = await request(executions, { json: { task: "chain", data: { i: 0 } } });
    assert.equal(early.status, 422);
    assert.equal((early.body.error as { code: string }).code, "task_not_registered");

    const workers = await Promise.all([
      startChainWorker("worker-1 (victim)", victimConfig),
      startChainWorker("worker-2"),
      startChainWorker("worker-3"),
    ]);

    // Now it knows `chain` and its input schema, learned only from the workers' registration.
    const unknown = await request(executions, { json: { task: "no-such-task", data: {} } });
    assert.equal(unknown.status, 422);
    assert.equal((unknown.body.error as { code: string }).code, "task_not_registered");
    const badData = await request(executions, { json: { task: "chain", data: { i: "x" } } });
    assert.equal(badData.status, 422);
    assert.equal((badData.body.error as { code: string }).code, "invalid_data");
    assert.match((badData.body.error as { message: string }).message, /\bi\b/, "the message names the failing field");

    const ids: string[] = new Array(EXECUTIONS);
    let acknowledged = 0;
    const killed = deferred();
    const scheduling = inParallel([...ids.keys()], IN_FLIGHT, async (i) => {
      if (i >= EXECUTIONS - HELD_BACK) await killed.promise;
      const reply = await request(executions, { json: { task: "chain", data: { i } } });
      assert.equal(reply.status, 201, `schedule ${i}: ${JSON.stringify(reply.body)}`);
      ids[i] = reply.body.execution_id as string;
      acknowledged += 1;
    });

    const victim = workers[0]!;
    let recordedAtKill: Array<{ execution_id: string; name: string }> = [];
    let acknowledgedAtKill = 0;
    let heldAtKill: Array<{ id: string; lease_token: number }> = [];
    // Executions leased to the victim (its worker id is `<host>-<pid>-<random>`) and still running, with the
    // fencing token of its claim (every claim increments it).
    const heldByVictim = () =>
      adminQuery<{ id: string; lease_token: number }>(
        `SELECT id, lease_token::float8 AS lease_token FROM ${schema.name}.executions WHERE status = 'running' AND lease_owner ~ $1`,
        [`-${victim.pid}-[0-9a-f]+$`],
      );
    /**
     * Resolves once none of the (frozen) victim's connections is running a statement (bounded). The
     * statements run in PostgreSQL's backends, which announce nothing when they finish: their state in
     * pg_stat_activity is read again after a 5 ms pause until none is active.
     */
    const victimQuiet = async () => {
      const ports = localTcpPorts(victim.pid);
      // No /proc or a Unix-socket database: the check cannot be made; the kill then rarely misses.
      if (ports.length === 0) return;
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [busy] = await adminQuery<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND state = 'active'",
          [ports],
        );
        if ((busy?.n ?? 0) === 0) return;
        assert.ok(Date.now() < deadline, "the frozen victim's last statements finished");
        await pause(5);
      }
    };
    /**
     * True when the (frozen, quiet) victim holds an execution with a step it started (its side-effect
     * line is written) and not recorded: the kill then lands mid-step, the case that matters most.
     */
    let heldWhenFrozen: Array<{ id: string; lease_token: number }> = [];
    const victimIsMidStep = async () => {
      heldWhenFrozen = await heldByVictim();
      const held = new Set(heldWhenFrozen.map((row) => row.id));
      if (held.size === 0) return false;
      const recorded = await adminQuery<{ execution_id: string; name: string }>(
        `SELECT execution_id, name FROM ${schema.name}.steps WHERE state = 'completed' AND execution_id = ANY($1::text[])`,
        [[...held]],
      );
      const done = new Set(recorded.map((row) => `${row.execution_id} ${row.name}`));
      return readFileSync(effects, "utf8")
        .split("\n")
        .some((line) => {
          const [pid, id, step] = line.split(" ");
          return pid === String(victim.pid) && id !== undefined && held.has(id) && !done.has(`${id} ${step}`);
        });
    };
    let killTries = 0;
    const freezes: number[] = [];
    let snapshotTaken: () => void = () => {};
    const snapshot = new Promise<void>((resolve) => {
      snapshotTaken = resolve;
    });
    const killing = (async () => {
      for (let attempt = 1; ; attempt += 1) {
        assert.ok(attempt <= KILL_TRIES, `the victim was not mid-step at any of ${KILL_TRIES} tries`);
        await victim.waitForLine(
          (line) => line.startsWith("start "),
          `${attempt * STARTS_PER_TRY} step starts`,
          90_000,
          attempt * STARTS_PER_TRY,
        );
        // Frozen first, so what it holds stays put while we look; then killed if it holds something. A
        // statement it sent just before freezing (a batch completing all it holds) may still be running:
        // wait for it to land, or the executions seen held might be finished by the time of the kill.
        const frozenAt = Date.now();
        await freeze(victim.child);
        await victimQuiet();
        const midStep = await victimIsMidStep();
        freezes.push(Date.now() - frozenAt);
        if (midStep) break;
        thaw(victim.child);
        killTries = attempt;
      }
      await victim.killHard();
      acknowledgedAtKill = acknowledged;
      killed.resolve();
      // The moment of truth: whatever is recorded now must never run again, whoever resumes it; and what
      // the dead victim still holds must be resumed by another worker once its lease expires.
      recordedAtKill = await adminQuery(`SELECT execution_id, name FROM ${schema.name}.steps WHERE state = 'completed'`);
      // What it held when last seen frozen: it never ran again. (Read after the kill instead, a lease that
      // lapsed while the loaded machine delayed its renewals could already have been taken over.)
      heldAtKill = heldWhenFrozen;
      snapshotTaken();
      await startChainWorker("worker-4 (replacement)");
    })();
    // Then (after the snapshot: its 1 ms grace interrupts steps, which then run again elsewhere, at least
    // once, as documented) another worker is stopped gracefully: it must leave nothing leased to itself
    // (finished or released for the others to take at once), and exit 0.
    let acknowledgedAtStop = 0;
    const gracefully = workers[1]!;
    const stopping = (async () => {
      await Promise.race([snapshot, killing]);
      await gracefully.waitForLine((line) => line.startsWith("start "), "300 step starts", 90_000, 300);
      acknowledgedAtStop = acknowledged;
      const exit = await gracefully.stop(20_000);
      assert.equal(exit.code, 0, gracefully.tail());
      const [left] = await adminQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${schema.name}.executions WHERE status = 'running' AND lease_owner ~ $1`,
        [`-${gracefully.pid}-[0-9a-f]+$`],
      );
      assert.equal(left?.n, 0, "a worker stopped with SIGTERM leaves no execution leased to itself");
    })();
    await Promise.all([scheduling, killing, stopping]);
    assert.ok(acknowledgedAtKill < EXECUTIONS, `the kill landed mid-run (${acknowledgedAtKill} of ${EXECUTIONS} scheduled)`);
    assert.ok(recordedAtKill.length > 0, "steps were recorded before the kill");
    assert.ok(heldAtKill.length > 0, "the victim died holding running executions");
    assert.ok(Math.max(...freezes) < VICTIM_LEASE_MS, `every freeze (${freezes.join(", ")} ms) ended within the victim's lease`);

    // Completion through long-polls (each returns as soon as its execution ends), checking every output.
    await inParallel(ids, IN_FLIGHT, async (id, i) => {
      const done = await request(`${executions}/${id}/wait?timeout=60`, { timeoutMs: 70_000 });
      assert.equal(done.status, 200, `${id} (i=${i}) finished: ${JSON.stringify(done.body)}`);
      assert.equal(done.body.status, "completed", `${id} (i=${i})`);
      assert.equal(done.body.output, (i + 1) * 2 - 1, `${id} (i=${i}) output`);
    });

    // What the dead victim held was claimed again (a newer fencing token) and completed by another worker.
    const tokensNow = await adminQuery<{ id: string; lease_token: number; status: string }>(
      `SELECT id, lease_token::float8 AS lease_token, status FROM ${schema.name}.executions WHERE id = ANY($1::text[])`,
      [heldAtKill.map((row) => row.id)],
    );
    assert.equal(tokensNow.length, heldAtKill.length);
    for (const held of heldAtKill) {
      const now = tokensNow.find((row) => row.id === held.id);
      assert.ok(
        now && now.lease_token > held.lease_token && now.status === "completed",
        `${held.id} was taken over: ${JSON.stringify(now)}`,
      );
    }

    // Nothing lost, nothing duplicated: exactly the acknowledged executions exist, all completed.
    const all = await request(`${executions}?limit=1`);
    assert.equal(all.body.total, EXECUTIONS);
    const completed = await request(`${executions}?status=completed&limit=1`);
    assert.equal(completed.body.total, EXECUTIONS);
    assert.equal(new Set(ids).size, EXECUTIONS);

    const runs = readFileSync(effects, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" ") as [string, string, string]);
    const runCount = new Map<string, number>();
    const pidsOf = new Map<string, Set<string>>();
    for (const [pid, id, step] of runs) {
      runCount.set(`${id} ${step}`, (runCount.get(`${id} ${step}`) ?? 0) + 1);
      pidsOf.set(id, (pidsOf.get(id) ?? new Set()).add(pid));
    }
    const roles = `victim ${victim.pid}, stopped ${gracefully.pid}`;
    for (const { execution_id, name } of recordedAtKill) {
      const count = runCount.get(`${execution_id} ${name}`);
      if (count === 1) continue;
      const lines = runs.filter(([, id]) => id === execution_id).map((run) => run.join(" "));
      assert.fail(`${execution_id} ${name} was recorded at the kill, yet ran ${count} times (${roles}):\n${lines.join("\n")}`);
    }
    for (const id of ids) for (const step of ["a", "b", "c"]) assert.ok(runCount.has(`${id} ${step}`), `${id} ${step} ran`);
    // Only the steps in flight in the killed worker and in the stopped one (interrupted after its 1 ms grace)
    // may have run twice: at most one per execution each held.
    const reruns = runs.length - EXECUTIONS * 3;
    assert.ok(reruns >= 0 && reruns <= 2 * WORKER_CONCURRENCY, `re-runs: ${reruns}`);
    // The kill landed mid-step, so at least that step ran again elsewhere (at-least-once inside a step).
    assert.ok(reruns >= 1, "the step in flight at the kill ran again on another worker");
    const victimPid = String(victim.pid);
    const resumed = [...pidsOf.values()].filter((pids) => pids.has(victimPid) && pids.size > 1).length;
    t.diagnostic(
      `freezes ${freezes.join(", ")} ms; graceful stop after ${acknowledgedAtStop} acknowledged; killed at try ${killTries + 1} after ${acknowledgedAtKill} acknowledged holding ${heldAtKill.length} executions; ${recordedAtKill.length} steps recorded; ` +
        `${reruns} in-flight steps re-ran; ${resumed} executions resumed elsewhere`,
    );

    // Graceful shutdown of everything still running: each exits 0.
    for (const child of processes.filter((p) => p.running)) {
      const exit = await child.stop();
      assert.equal(exit.code, 0, `${child.label} exit code\n${child.tail()}`);
    }
  } finally {
    await killAll(processes);
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
