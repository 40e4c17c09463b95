/** The chaos run's summary on the terminal and its JSON result under bench/results/. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChaosResult } from "./run-chaos.js";

export function summary(result: ChaosResult): string {
  const f = result.faults;
  const lines = [
    `chaos run ${result.ok ? "PASSED" : "FAILED"} in ${result.seconds.total.toFixed(0)} s (faults ${result.seconds.faults.toFixed(0)} s, drain ${result.seconds.drain.toFixed(0)} s)`,
    `faults: ${f.workerKills} worker SIGKILLs (${f.workerKillsMidStep} mid-step; freezes to catch one mid-step: at most ${Math.max(0, ...f.killAimTries)}), ${f.apiKills} API server SIGKILLs, ${f.pgRestarts} PostgreSQL restarts, ` +
      `${f.terminateRounds} terminate rounds (${f.terminatedBackends} backends), ${f.blackHoles} black hole(s) (${f.blackHoleSeconds.toFixed(1)} s), ` +
      `${f.zombies} zombie(s) (stopped ${f.zombieStoppedMs.join(", ")} ms), ${f.poisonsStarted} poison executions (${f.poisonCrashes} crashes)`,
    `executions: ${result.load.acknowledged} acknowledged, ${result.findings.children} children, ${result.findings.scheduled} schedule ticks, ${result.findings.rows} rows`,
  ];
  for (const [kind, k] of Object.entries(result.findings.executions))
    if (k.acknowledged > 0)
      lines.push(
        `  ${kind.padEnd(7)} ${k.acknowledged} acknowledged, ${k.completed} completed, ${k.failed} failed, ${k.asExpected} as expected`,
      );
  const d = result.findings.duplicates;
  lines.push(
    `step runs: ${result.findings.stepRuns}; steps run twice: ${d.steps} (${d.extraRuns} extra runs; in flight at ${JSON.stringify(d.byFault)}; not in flight at any fault: ${d.notInFlight}; explained only by an outage's lapsed leases: ${d.onlyLapsedLeases}); poison step runs: ${result.findings.poisonRuns}`,
    `late writes of the zombie: ${result.findings.lateWrites.rejected} of ${result.findings.lateWrites.attempted} rejected`,
    `http: ${result.http.requests} requests, ${result.http.noAnswer} unanswered, statuses ${JSON.stringify(result.http.byStatus)}; ` +
      `5xx ${result.http.serverErrors} (${result.http.allowed503} × 503 store_unavailable during an outage, ${result.http.unexpected.length} other)`,
    "invariants:",
  );
  for (const c of result.findings.checks) lines.push(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}${c.detail ? ` (${c.detail})` : ""}`);
  return lines.join("\n");
}

/** Writes the result as `<timestamp>-chaos[-short].json` in `dir` and returns the path. */
export function writeResult(dir: string, result: ChaosResult, extra: Record<string, unknown>, label: string): string {
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, "-");
  const file = join(dir, `${stamp}-${label}.json`);
  writeFileSync(file, `${JSON.stringify({ kind: "chaos", ...extra, ...result }, null, 2)}\n`);
  return file;
}
