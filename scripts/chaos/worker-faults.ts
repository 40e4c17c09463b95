/**
 * Faults that hit worker processes: a SIGKILL that lands mid-step, a crash of the worker's own (a poison
 * step), and the zombie (SIGSTOP past the lease, then SIGCONT).
 *
 * A kill is aimed, as in test/pg-multiprocess.test.ts: the victim is frozen first, and killed only if it
 * then holds an execution with a step started (its side-effect line is written) and not recorded;
 * otherwise it is thawed and tried again a moment later. Steps take milliseconds, so "kill after a while"
 * alone would often land between steps and test nothing.
 */

import { setTimeout as pause } from "node:timers/promises";
import type { Exit } from "../../test/support/child-process.js";
import { freeze, thaw } from "../../test/support/freeze.js";
import { localTcpPorts, type ZartProcess } from "../../test/support/processes.js";
import { stepKey } from "./effects-log.js";
import { type FaultContext, heldBy, noteWorkerInFlight } from "./fault-context.js";

/** How long a kill may wait for its victim to be mid-step before it is killed anyway (and counted as not). */
const AIM_MS = 120_000;
/** How long the zombie's bait step lasts: long enough to be caught in it. */
const SLOW_STEP_MS = 2000;

/**
 * Resolves once none of the frozen process's connections is running a statement (bounded): a statement it
 * sent just before freezing may still commit, and must land before we look. Its backends are found behind
 * the proxy by the proxy's own ports.
 */
async function quiet(ctx: FaultContext, pid: number): Promise<void> {
  const ports = ctx.cluster.proxy.upstreamPorts(localTcpPorts(pid));
  if (ports.length === 0) return;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const [busy] = await ctx.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND state = 'active'",
      [ports],
    );
    if ((busy?.n ?? 0) === 0) return;
    await pause(5);
  }
}

/** Numbers the looks of thawLooked, each a fault of its own (the report groups faults by name before the number). */
let looks = 0;

/**
 * Continues a worker frozen only to look at it. A freeze is a pause like any other: if it lasted long
 * enough for a lease to run out (it waits for the worker's statements to settle, up to seconds), what the
 * worker had started may run again elsewhere, so its unrecorded step runs count as in flight at it.
 */
async function thawLooked(ctx: FaultContext, worker: ZartProcess, frozenAt: number, fault: string): Promise<void> {
  const leaseMs = ctx.cluster.config.leaseSeconds * 1000;
  if (Date.now() - frozenAt >= leaseMs / 3) {
    await noteWorkerInFlight(ctx, fault, worker.pid);
    ctx.freezes.push({ fault, pid: worker.pid, stoppedAt: frozenAt });
  }
  thaw(worker.child);
}

/** The executions a (frozen) worker holds, and its started, unrecorded step runs among them. */
async function midStep(ctx: FaultContext, pid: number) {
  ctx.effects.refresh();
  const held = await heldBy(ctx, pid);
  const ids = held.map((row) => row.id);
  const recorded = new Set(
    (
      await ctx.db.query<{ execution_id: string; name: string }>(
        "SELECT execution_id, name FROM chaos.steps WHERE state = 'completed' AND execution_id = ANY($1::text[])",
        [ids],
      )
    ).map((row) => stepKey(row.execution_id, row.name)),
  );
  const heldIds = new Set(ids);
  const runs = (ctx.effects.startsByPid.get(pid) ?? []).filter(
    (run) => heldIds.has(run.execution) && !recorded.has(stepKey(run.execution, run.step)),
  );
  return { held, runs };
}

/** SIGKILLs the worker in `slot` mid-step (see above), notes what was in flight, and starts a new one. */
export async function killWorkerMidStep(ctx: FaultContext, slot: number): Promise<void> {
  const n = ctx.counts.workerKills + 1;
  let victim: ZartProcess | null = null;
  let landed = false;
  const began = Date.now();
  let tries = 0;
  while (!landed) {
    tries += 1;
    const last = Date.now() - began > AIM_MS;
    if (Date.now() - began > 2 * AIM_MS) throw new Error(`worker slot ${slot} had no live process to kill for ${2 * AIM_MS} ms`);
    victim = await ctx.cluster.workers[slot]!;
    // Every way round this loop pauses: a dead child is reaped (and its slot refilled) only when the event
    // loop gets to run its exit, which a loop of resolved promises would never let happen.
    if (!victim.running) {
      await pause(100);
      continue;
    }
    try {
      await freeze(victim.child);
    } catch {
      await pause(100); // it died meanwhile (a poison step); its slot is being refilled
      continue;
    }
    const frozenAt = Date.now();
    await quiet(ctx, victim.pid);
    const found = await midStep(ctx, victim.pid);
    if (found.runs.length > 0 || last) {
      landed = found.runs.length > 0;
      break;
    }
    await thawLooked(ctx, victim, frozenAt, `kill-aim-freeze-${++looks}`);
    await pause(50 + Math.floor(Math.random() * 150));
  }
  ctx.counts.killAimTries.push(tries);
  if (!victim) throw new Error(`worker slot ${slot} never had a process`);
  await ctx.cluster.killWorker(slot);
  ctx.counts.workerKills = n;
  if (landed) ctx.counts.workerKillsMidStep += 1;
  await noteWorkerInFlight(ctx, `worker-kill-${n}`, victim.pid);
  await ctx.cluster.restartWorker(slot);
}

/** A worker that died by itself (a poison step's process.exit). */
export async function onWorkerCrash(ctx: FaultContext, worker: ZartProcess, exit: Exit): Promise<void> {
  ctx.counts.workerCrashes += 1;
  if (exit.code === 7) ctx.counts.poisonCrashes += 1;
  await noteWorkerInFlight(ctx, `worker-crash-${ctx.counts.workerCrashes}`, worker.pid);
}

/**
 * The zombie: the worker in `slot` is stopped (SIGSTOP) while it runs a slow step, kept stopped until
 * other workers took over everything it held (which needs its lease to lapse) and finished the slow
 * executions, then continued (SIGCONT). Its slow steps then return and try to write: those writes must all
 * be refused (fencing); the end checks count them from the log and the records.
 */
export async function zombie(ctx: FaultContext, slot: number): Promise<void> {
  for (let round = 1; round <= 20; round++) {
    const worker = await ctx.cluster.workers[slot]!;
    const bait = await Promise.all([0, 1, 2].map(() => ctx.load.startOne("slow", { ms: SLOW_STEP_MS })));
    const baitIds = new Set(bait.map((b) => b.id));
    // Wait until each bait execution started its slow step somewhere (the log says where).
    let mine: string[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await pause(20)) {
      ctx.effects.refresh();
      const started = bait.map((b) => ctx.effects.startsByKey.get(stepKey(b.id, "slow"))?.[0]);
      mine = started.filter((run) => run?.pid === worker.pid).map((run) => run!.execution);
      if (mine.length > 0 || started.every((run) => run !== undefined)) break;
    }
    if (mine.length === 0 || !worker.running) continue;
    try {
      await freeze(worker.child);
    } catch {
      await pause(100); // it died meanwhile (a poison step beside the bait); bait its successor
      continue;
    }
    const stoppedAt = Date.now();
    await quiet(ctx, worker.pid);
    const found = await midStep(ctx, worker.pid);
    const slowHeld = found.held.filter((row) => baitIds.has(row.id) && found.runs.some((run) => run.execution === row.id));
    if (slowHeld.length === 0) {
      await thawLooked(ctx, worker, stoppedAt, `zombie-look-${++looks}`); // the slow step had ended already; bait again
      continue;
    }
    ctx.counts.zombies += 1;
    const record = { pid: worker.pid, held: slowHeld, heldAll: found.held, stoppedAt, thawedAt: null as number | null };
    ctx.zombies.push(record);
    await ctx.ledger.snapshot();
    ctx.ledger.allowInFlight(`zombie-${ctx.counts.zombies}`, found.runs);
    ctx.freezes.push({ fault: `zombie-${ctx.counts.zombies}`, pid: worker.pid, stoppedAt });
    // Everything it held is claimed again elsewhere (a newer fencing token), and the slow ones finish there.
    const deadline = Date.now() + ctx.cluster.config.leaseSeconds * 1000 * 4 + 120_000;
    for (;;) {
      // More than the check needs: when it fails, these say why (lease, due time against the database's clock).
      const rows = await ctx.db.query<{ id: string; token: number; status: string }>(
        `SELECT id, task, status, lease_token::float8 AS token, lease_owner, runnable_at::float8 AS runnable_at,
                (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS db_now, concurrency_key, parent_id
           FROM chaos.executions WHERE id = ANY($1::text[])`,
        [found.held.map((row) => row.id)],
      );
      const takenOver = found.held.every((held) => {
        const now = rows.find((row) => row.id === held.id);
        return now !== undefined && (now.token > held.token || now.status !== "running");
      });
      const slowDone = slowHeld.every((held) => rows.find((row) => row.id === held.id)?.status === "completed");
      if (takenOver && slowDone) break;
      if (Date.now() > deadline) {
        const workers = (await Promise.allSettled(ctx.cluster.workers)).map((w) =>
          w.status === "fulfilled" ? { pid: w.value.pid, running: w.value.running } : { failed: String(w.reason) },
        );
        throw new Error(`the zombie's executions were not taken over: ${JSON.stringify({ held: found.held, rows, workers })}`);
      }
      await pause(250);
    }
    ctx.counts.zombieStoppedMs.push(Date.now() - stoppedAt);
    record.thawedAt = Date.now();
    thaw(worker.child);
    // Its slow steps return now (they ignore the abort); the log says when. Their writes follow.
    for (const limit = Date.now() + 30_000; Date.now() < limit; await pause(50)) {
      ctx.effects.refresh();
      const ended = slowHeld.every((held) =>
        ctx.effects.runs.some((run) => run.phase === "end" && run.pid === worker.pid && run.execution === held.id),
      );
      if (ended) break;
    }
    return;
  }
  throw new Error("the zombie bait never landed on the chosen worker in 20 rounds");
}
