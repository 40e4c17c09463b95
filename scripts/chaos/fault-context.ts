/**
 * What every fault works with, and the one thing they all do after hitting the system: note which step
 * runs were in flight at that moment (the runs allowed to happen twice), with a fresh snapshot of the
 * step records taken first (the records that must never run again).
 */
import { setTimeout as pause } from "node:timers/promises";
import type { Cluster } from "./cluster.js";
import type { Database } from "./database.js";
import type { EffectsLog, StepRun } from "./effects-log.js";
import type { MixedLoad } from "./mixed-load.js";
import type { Outages } from "./outages.js";
import type { StepLedger } from "./step-ledger.js";

export interface FaultCounts {
  workerKills: number;
  workerKillsMidStep: number;
  /** Per kill, how many freezes it took to catch the victim mid-step. */
  killAimTries: number[];
  workerCrashes: number;
  poisonCrashes: number;
  apiKills: number;
  pgRestarts: number;
  terminateRounds: number;
  terminatedBackends: number;
  blackHoles: number;
  blackHoleSeconds: number;
  zombies: number;
  zombieStoppedMs: number[];
  poisonsStarted: number;
}

export interface ZombieRecord {
  pid: number;
  /** The slow executions it held mid-step when stopped, with their fencing token then. */
  held: Array<{ id: string; token: number }>;
  /** Everything it held when stopped (for the report of a check that failed). */
  heldAll: Array<{ id: string; token: number }>;
  stoppedAt: number;
  thawedAt: number | null;
}

export interface FaultContext {
  cluster: Cluster;
  db: Database;
  effects: EffectsLog;
  ledger: StepLedger;
  outages: Outages;
  load: MixedLoad;
  counts: FaultCounts;
  zombies: ZombieRecord[];
  /**
   * Workers stopped (SIGSTOP) and continued, with the fault each counts under. A step attempt the engine
   * began before the stop (its lease checked) may reach its body's first line, and its log line, only
   * after the worker continues: that run was in flight at the stop (invariants.ts).
   */
  freezes: Array<{ fault: string; pid: number; stoppedAt: number }>;
  /** When each fault of the plan ran (this machine's clock), for the report of a check that failed. */
  timeline: Array<{ fault: string; start: number; end: number }>;
}

export function newCounts(): FaultCounts {
  return {
    workerKills: 0,
    workerKillsMidStep: 0,
    killAimTries: [],
    workerCrashes: 0,
    poisonCrashes: 0,
    apiKills: 0,
    pgRestarts: 0,
    terminateRounds: 0,
    terminatedBackends: 0,
    blackHoles: 0,
    blackHoleSeconds: 0,
    zombies: 0,
    zombieStoppedMs: [],
    poisonsStarted: 0,
  };
}

/** The running executions leased to a worker process (its worker id is `<host>-<pid>-<random>`). */
export async function heldBy(ctx: FaultContext, pid: number): Promise<Array<{ id: string; token: number }>> {
  return ctx.db.query<{ id: string; token: number }>(
    "SELECT id, lease_token::float8 AS token FROM chaos.executions WHERE status = 'running' AND lease_owner ~ $1",
    [`-${pid}-[0-9a-f]+$`],
  );
}

/**
 * After a worker process died: every step run it started whose record was not yet seen was in flight
 * (the ledger skips the recorded ones). Not only those of the executions the database still shows it
 * holding: by the time this runs, another worker may have taken some of them over already.
 */
export async function noteWorkerInFlight(ctx: FaultContext, fault: string, pid: number): Promise<number> {
  ctx.effects.refresh();
  await ctx.ledger.snapshot();
  return ctx.ledger.allowInFlight(fault, ctx.effects.startsByPid.get(pid) ?? []);
}

/**
 * Before a database fault: a snapshot of the records and the executions running. Returns what to call
 * once the fault is over, which notes every run of those executions not recorded before the fault.
 */
export async function beforeDatabaseFault(ctx: FaultContext, fault: string): Promise<() => number> {
  await ctx.ledger.snapshot();
  const running = new Set(
    (await ctx.db.query<{ id: string }>("SELECT id FROM chaos.executions WHERE status = 'running'")).map((r) => r.id),
  );
  return () => {
    const over = Date.now();
    ctx.effects.refresh();
    const runs: StepRun[] = ctx.effects.runs.filter((run) => run.phase !== "end" && run.at <= over && running.has(run.execution));
    return ctx.ledger.allowInFlight(fault, runs);
  };
}

/**
 * Resolves once every API server answers /readyz with 200 and every worker has started a step since
 * `since` (a short pause between looks): the system has caught up with a database fault before the next.
 */
export async function untilReady(ctx: FaultContext, since: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const slot of ctx.cluster.workers) {
    const worker = await slot;
    for (;;) {
      ctx.effects.refresh();
      if (!worker.running || (ctx.effects.startsByPid.get(worker.pid) ?? []).some((run) => run.at > since)) break;
      if (Date.now() > deadline) throw new Error(`${worker.label} ran no step within ${timeoutMs} ms of a database fault`);
      await pause(100);
    }
  }
  for (const api of ctx.cluster.apis) {
    const url = (await api).url;
    for (;;) {
      try {
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        if (response.status === 200) break;
      } catch {
        // Not answering yet.
      }
      if (Date.now() > deadline) throw new Error(`${url} not ready ${timeoutMs} ms after a database fault`);
      await pause(200);
    }
  }
}
