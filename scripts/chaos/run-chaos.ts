/**
 * One chaos run from start to end: the cluster comes up, the mixed load starts, the faults run in their
 * planned order, the load stops, the schedule is paused and every execution is left to finish, then the
 * invariants are checked and everything is torn down. Used by scripts/chaos.ts and test/pg-chaos.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import { CarefulClient, type HttpFigures } from "./careful-client.js";
import { Cluster } from "./cluster.js";
import type { ChaosConfig } from "./config.js";
import { EffectsLog } from "./effects-log.js";
import { type FaultContext, type FaultCounts, newCounts } from "./fault-context.js";
import { planFaults, runFaults } from "./fault-plan.js";
import { checkInvariants, type Findings } from "./invariants.js";
import { MixedLoad } from "./mixed-load.js";
import { type Outage, Outages } from "./outages.js";
import { StepLedger } from "./step-ledger.js";
import { onWorkerCrash } from "./worker-faults.js";

export interface ChaosResult {
  config: ChaosConfig;
  startedAt: string;
  seconds: { total: number; faults: number; drain: number };
  faults: FaultCounts;
  outages: Outage[];
  load: { acknowledged: number; eventsDelivered: number; processStarts: number; failedStarts: number };
  http: Omit<HttpFigures, "serverErrors"> & { serverErrors: number; allowed503: number; unexpected: HttpFigures["serverErrors"] };
  findings: Findings;
  ok: boolean;
}

const TERMINAL = "('completed', 'failed', 'cancelled')";

export async function runChaos(config: ChaosConfig, say: (line: string) => void = () => {}): Promise<ChaosResult> {
  const startedAt = new Date();
  const dir = mkdtempSync(join(tmpdir(), "zart-chaos-"));
  const effects = new EffectsLog(join(dir, "effects.log"));
  const cluster = await Cluster.start(config, dir, effects.path);
  say(
    `cluster up: private PostgreSQL ${cluster.postgres.display} behind proxy :${cluster.proxy.port}, ${config.apiServers} API servers, ${config.workers} workers`,
  );
  const outages = new Outages();
  const client = new CarefulClient(() => cluster.apiUrl(), outages);
  const load = new MixedLoad(client, config.rate);
  try {
    const ctx: FaultContext = {
      cluster,
      db: cluster.db,
      effects,
      ledger: new StepLedger(cluster.db),
      outages,
      load,
      counts: newCounts(),
      zombies: [],
      freezes: [],
      timeline: [],
    };
    const crashErrors: string[] = [];
    cluster.onCrash = (_slot, worker, exit) =>
      onWorkerCrash(ctx, worker, exit).catch((error: unknown) => {
        crashErrors.push((error as Error).message);
      });

    load.start();
    const plan = planFaults(config);
    const faultsBegan = Date.now();
    await runFaults(ctx, plan, (k, kind) => {
      if (k % 10 === 0 || kind !== "worker-kill")
        say(
          `${((Date.now() - faultsBegan) / 1000).toFixed(0)} s: fault ${k + 1}/${plan.length} ${kind}; ${load.acknowledged.length} acknowledged`,
        );
    });
    const faultsSeconds = (Date.now() - faultsBegan) / 1000;
    await load.stop();
    say(`faults done in ${faultsSeconds.toFixed(0)} s; ${load.acknowledged.length} executions acknowledged; draining`);

    // No new ticks while draining (an operator's pause survives the workers' restarts).
    const paused = await client.send("POST", "/schedules/chaos-tick/pause");
    if (paused.status !== 200) throw new Error(`pausing the schedule: ${paused.status} ${JSON.stringify(paused.body)}`);
    const drainBegan = Date.now();
    for (const deadline = drainBegan + config.drainSeconds * 1000; ; await pause(500)) {
      const [left] = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM chaos.executions WHERE status NOT IN ${TERMINAL}`);
      if ((left?.n ?? 0) === 0 || Date.now() > deadline) break;
    }
    const drainSeconds = (Date.now() - drainBegan) / 1000;

    const findings = await checkInvariants(ctx, load.acknowledged, client.figures);
    if (crashErrors.length > 0)
      findings.checks.push({ name: "every worker crash was looked at", ok: false, detail: crashErrors.join("; ") });
    const { serverErrors, ...http } = client.figures;
    return {
      config,
      startedAt: startedAt.toISOString(),
      seconds: { total: (Date.now() - startedAt.getTime()) / 1000, faults: faultsSeconds, drain: drainSeconds },
      faults: ctx.counts,
      outages: outages.windows,
      load: {
        acknowledged: load.acknowledged.length,
        eventsDelivered: load.eventsDelivered,
        processStarts: cluster.processStarts,
        failedStarts: cluster.failedStarts,
      },
      http: {
        ...http,
        serverErrors: serverErrors.length,
        allowed503: serverErrors.filter((e) => e.allowed).length,
        unexpected: serverErrors.filter((e) => !e.allowed),
      },
      findings,
      ok: findings.checks.every((c) => c.ok),
    };
  } finally {
    // On an error too: nothing of the run may keep going (or keep this process alive) after it.
    load.halt();
    client.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
