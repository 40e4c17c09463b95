/**
 * The order and pace of a run's faults. The worker kills are the backbone; every other fault (and each
 * poison execution) is slotted in at evenly spaced places among them, so each kind strikes at a different
 * stage of the load. Fault k starts no earlier than k/N of the run's minutes: faults that take longer
 * than their share (a restart, the black hole, the zombie) simply push the next one back. Faults run one
 * at a time; the load and the poison steps' own crashes go on beside them.
 */
import { setTimeout as pause } from "node:timers/promises";
import type { ChaosConfig } from "./config.js";
import { blackHole, restartPostgres, terminateBackends } from "./database-faults.js";
import type { FaultContext } from "./fault-context.js";
import { killWorkerMidStep, zombie } from "./worker-faults.js";

export type FaultKind = "worker-kill" | "api-kill" | "pg-restart" | "terminate" | "black-hole" | "zombie" | "poison";

export function planFaults(config: ChaosConfig): FaultKind[] {
  const plan: FaultKind[] = Array.from({ length: config.workerKills }, () => "worker-kill");
  const others: FaultKind[] = [];
  const most = Math.max(config.apiKills, config.pgRestarts, config.terminateRounds, config.poisons, 1);
  for (let round = 0; round < most; round++) {
    // Poisons early in each round: each needs several lease periods of crashes before it fails.
    if (round < config.poisons) others.push("poison");
    if (round < config.apiKills) others.push("api-kill");
    if (round < config.pgRestarts) others.push("pg-restart");
    if (round < config.terminateRounds) others.push("terminate");
    if (round === Math.floor(most / 3)) for (let z = 0; z < config.zombies; z++) others.push("zombie");
    if (round === Math.floor((2 * most) / 3)) for (let b = 0; b < config.blackHoles; b++) others.push("black-hole");
  }
  // Spread the others evenly through the kills (from the back, so earlier positions stay valid).
  const positions = others.map((_, k) => Math.round(((k + 0.5) * plan.length) / others.length));
  for (let k = others.length - 1; k >= 0; k--) plan.splice(positions[k]!, 0, others[k]!);
  return plan;
}

export async function runFaults(
  ctx: FaultContext,
  plan: readonly FaultKind[],
  onStep: (k: number, kind: FaultKind) => void,
): Promise<void> {
  const config = ctx.cluster.config;
  const began = Date.now();
  const share = (config.minutes * 60_000) / plan.length;
  let workerSlot = 0;
  let apiSlot = 0;
  for (const [k, kind] of plan.entries()) {
    const due = began + k * share;
    if (Date.now() < due) await pause(due - Date.now());
    onStep(k, kind);
    const start = Date.now();
    switch (kind) {
      case "worker-kill":
        await killWorkerMidStep(ctx, workerSlot++ % config.workers);
        break;
      case "api-kill":
        await ctx.cluster.restartApi(apiSlot++ % config.apiServers);
        ctx.counts.apiKills += 1;
        break;
      case "pg-restart":
        await restartPostgres(ctx);
        break;
      case "terminate":
        await terminateBackends(ctx);
        break;
      case "black-hole":
        await blackHole(ctx, config.blackHoleSeconds);
        break;
      case "zombie":
        await zombie(ctx, workerSlot++ % config.workers);
        break;
      case "poison":
        ctx.counts.poisonsStarted += 1;
        await ctx.load.startOne("poison");
        break;
    }
    ctx.timeline.push({ fault: `${k + 1} ${kind}`, start, end: Date.now() });
  }
}
