/**
 * Entry point of a benchmark child process: receives one job over IPC, runs it, replies, exits.
 * Exits explicitly because some systems keep timers or pools alive after their own shutdown.
 */
import type { ChildJob, ChildReply } from "./child.js";
import { loadSystem } from "./systems/index.js";

async function runRetention(job: ChildJob): Promise<unknown> {
  const retention = await import("./retention.js");
  switch (job.op) {
    case "retention-fill":
      return retention.fill(job.target, job.stored, job.n, job.claims);
    case "retention-drain":
      return retention.drainW0(job.target, job.n);
    case "retention-claims":
      return retention.timeClaims(job.target, job.samples, job.warmup);
    case "retention-prune":
      return retention.pruneOld(job.target, job.batchSize);
    default:
      throw new Error(`not a retention job: ${job.op}`);
  }
}

async function run(job: ChildJob): Promise<unknown> {
  // Zart-only figures: no adapter needed.
  if (job.op === "scale") return (await import("./scale.js")).measureScale(job.target, job.stored, job.samples);
  if (job.op === "sleepers") return (await import("./scale.js")).measureSleepers(job.target, job.count);
  if (job.op.startsWith("retention-")) return runRetention(job);
  const system = await loadSystem(job.system);
  switch (job.op) {
    case "migrate":
      return system.migrate(job.target);
    case "enqueue": {
      return { elapsedMs: await system.enqueue(job.target, job.workload, job.n, { mode: job.mode }) };
    }
    case "drain":
      return system.drain(job.target, job.config);
    case "latency":
      return system.latency(job.target, job.config);
    case "wake":
      if (!system.eventWake) throw new Error(`${job.system} has no event wake`);
      return system.eventWake(job.target, job.samples, job.warmup);
  }
}

function reply(message: ChildReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      console.log(JSON.stringify(message));
      resolve();
      return;
    }
    process.send(message, () => resolve());
  });
}

process.once("message", (job: ChildJob) => {
  run(job)
    .then((result) => reply({ ok: true, result: result ?? null, rssPeakBytes: process.resourceUsage().maxRSS * 1024 }))
    .catch((error: unknown) => reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    .finally(() => process.exit(0));
});
