/**
 * The chaos run at a small scale (scripts/chaos/, `SHORT`): every scenario of `npm run chaos` once, on a
 * private PostgreSQL (the run restarts it, so never the shared test server), with two API servers and
 * three workers as separate processes under a mixed load: workers SIGKILLed mid-step, an API server
 * SIGKILLed, a PostgreSQL restart, a round of pg_terminate_backend, a short black hole, a zombie worker
 * and poison executions. Each invariant the run checks is an assertion here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SHORT } from "../scripts/chaos/config.js";
import { summary } from "../scripts/chaos/report.js";
import { runChaos } from "../scripts/chaos/run-chaos.js";
import { markPostgresRan, testDatabaseUrl } from "./support/postgres.js";

test("chaos at a small scale: every fault once under load, and every invariant holds", { timeout: 300_000 }, async (t) => {
  // Like every PostgreSQL file, this one runs only where PostgreSQL tests are meant to (the runner sets
  // the URL); the run itself uses a private server of its own.
  testDatabaseUrl();
  const result = await runChaos(SHORT, (line) => {
    t.diagnostic(line);
    markPostgresRan(); // the first line is said once the private PostgreSQL answers and the processes run
  });
  for (const line of summary(result).split("\n")) t.diagnostic(line);
  for (const c of result.findings.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);

  const f = result.faults;
  assert.equal(f.workerKills, SHORT.workerKills);
  assert.equal(f.workerKillsMidStep, SHORT.workerKills);
  assert.equal(f.apiKills, SHORT.apiKills);
  assert.equal(f.pgRestarts, SHORT.pgRestarts);
  assert.equal(f.terminateRounds, SHORT.terminateRounds);
  assert.ok(f.terminatedBackends > 0, "the terminate round cut connections");
  assert.equal(f.blackHoles, SHORT.blackHoles);
  assert.equal(f.zombies, SHORT.zombies);
  assert.ok(result.findings.lateWrites.attempted > 0, "the zombie tried to write late");
  assert.equal(result.findings.lateWrites.rejected, result.findings.lateWrites.attempted);
  assert.equal(f.poisonsStarted, SHORT.poisons);
  assert.ok(f.poisonCrashes >= 5 * SHORT.poisons, `each poison step crashed its worker at least its budget of 5 (${f.poisonCrashes})`);
  const { executions } = result.findings;
  assert.equal(executions.poison.failed, SHORT.poisons);
  for (const kind of ["single", "chain", "sleep", "event", "flaky", "parent", "slow"] as const)
    assert.ok(executions[kind].acknowledged > 0 && executions[kind].asExpected === executions[kind].acknowledged, kind);
  assert.equal(result.http.unexpected.length, 0);
  assert.ok(result.ok);
});
