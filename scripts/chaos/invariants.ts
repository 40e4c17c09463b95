/**
 * The end checks of a chaos run, from the database, the side-effect log and the API. Each check says
 * whether it held and, when not, what broke it (the first few offenders). The figures the report shows
 * (duplicates, late writes) are worked out here too, since the checks are made from them.
 */
import type { HttpFigures } from "./careful-client.js";
import { type Check, check } from "./check.js";
import { countChecks, type Row } from "./count-checks.js";
import { stepKey } from "./effects-log.js";
import type { FaultContext } from "./fault-context.js";
import { type Acknowledged, expectedEnd, KINDS, type Kind } from "./mixed-load.js";

export interface KindFigures {
  acknowledged: number;
  asExpected: number;
  completed: number;
  failed: number;
}

export interface Findings {
  checks: Check[];
  executions: Record<Kind, KindFigures>;
  children: number;
  scheduled: number;
  rows: number;
  stepRuns: number;
  /** Steps that ran more than once, the poison step (which runs until its crash budget is spent) apart. */
  duplicates: {
    steps: number;
    extraRuns: number;
    byFault: Record<string, number>;
    notInFlight: number;
    /** Steps whose second run only an outage's lapsed leases explain (no worker died or stopped). */
    onlyLapsedLeases: number;
  };
  /** Runs of the poison step: one per crash. */
  poisonRuns: number;
  lateWrites: { attempted: number; rejected: number };
}

export async function checkInvariants(ctx: FaultContext, acknowledged: readonly Acknowledged[], http: HttpFigures): Promise<Findings> {
  const { db, effects, ledger } = ctx;
  effects.refresh();
  const rows = await db.query<Row>(
    "SELECT id, task, status, output, error, parent_id, schedule_id, idempotency_key, data FROM chaos.executions",
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const checks: Check[] = [];

  // Every acknowledged execution ended as its kind must, and exactly one row exists per key.
  const executions = Object.fromEntries(KINDS.map((k) => [k, { acknowledged: 0, asExpected: 0, completed: 0, failed: 0 }])) as Record<
    Kind,
    KindFigures
  >;
  const wrongEnds: unknown[] = [];
  for (const ack of acknowledged) {
    const row = byId.get(ack.id);
    const figures = executions[ack.kind];
    figures.acknowledged += 1;
    if (row?.status === "completed") figures.completed += 1;
    if (row?.status === "failed") figures.failed += 1;
    const expected = expectedEnd(ack.kind, ack.i);
    const good =
      row !== undefined &&
      row.status === expected.status &&
      (expected.status === "completed"
        ? JSON.parse(row.output ?? "null") === expected.output
        : (JSON.parse(row.error ?? "{}") as { code?: string }).code === expected.code);
    if (good) figures.asExpected += 1;
    else wrongEnds.push({ key: ack.key, id: ack.id, status: row?.status, output: row?.output, error: row?.error?.slice(0, 200) });
  }
  checks.push(check("every acknowledged execution reached its expected end", wrongEnds));
  const keyed = rows.filter((row) => row.idempotency_key?.startsWith("chaos-"));
  const ackIds = new Set(acknowledged.map((a) => a.id));
  checks.push(
    check(
      "one execution per acknowledged key, no other",
      keyed.filter((row) => !ackIds.has(row.id)).map((row) => row.idempotency_key),
      keyed.length === acknowledged.length && ackIds.size === acknowledged.length,
      `${keyed.length} keyed rows, ${acknowledged.length} acknowledged, ${ackIds.size} distinct ids`,
    ),
  );

  // Children: two per parent, each completed with its output; schedule ticks: completed, once per tick.
  const parents = new Set(acknowledged.filter((a) => a.kind === "parent").map((a) => a.id));
  const children = rows.filter((row) => row.task === "chaos-child");
  const childrenOf = new Map<string, number>();
  for (const c of children) childrenOf.set(c.parent_id ?? "", (childrenOf.get(c.parent_id ?? "") ?? 0) + 1);
  const badChildren = children
    .filter(
      (c) => !parents.has(c.parent_id ?? "") || c.status !== "completed" || JSON.parse(c.output ?? "null") !== JSON.parse(c.data).i * 10,
    )
    .map((c) => c.id);
  for (const p of parents) if (childrenOf.get(p) !== 2) badChildren.push(`${p} has ${childrenOf.get(p) ?? 0} children`);
  checks.push(check("every parent has its two children, completed", badChildren));
  const ticks = rows.filter((row) => row.schedule_id === "chaos-tick");
  const tickKeys = new Set(ticks.map((row) => row.idempotency_key));
  checks.push(
    check(
      "the schedule fired during the run; each tick once, completed",
      ticks.filter((row) => row.status !== "completed").map((row) => row.id),
      ticks.length > 0 && tickKeys.size === ticks.length && ticks.every((row) => row.status === "completed"),
      `${ticks.length} tick executions, ${tickKeys.size} distinct ticks`,
    ),
  );
  const stray = rows.filter((row) => !ackIds.has(row.id) && row.task !== "chaos-child" && row.schedule_id !== "chaos-tick");
  checks.push(
    check(
      "no execution nobody asked for",
      stray.map((row) => row.id),
    ),
  );

  // Exactly-once records: no attempt of a step began after its completed record was first seen.
  const reran: unknown[] = [];
  for (const [key, seenAt] of ledger.firstSeen) {
    const late = (effects.startsByKey.get(key) ?? []).filter((run) => run.began > seenAt);
    if (late.length > 0) reran.push({ key, recordSeenAt: seenAt, runs: late });
  }
  checks.push(check("no step recorded as completed ran again after its record committed", reran));
  checks.push(
    check(
      "step records were snapshotted at the faults",
      [],
      ledger.snapshots > 0 && ledger.firstSeen.size > 0,
      `${ledger.snapshots} snapshots`,
    ),
  );

  // An outage longer than the lease lapses every lease: the documented at-least-once of a lapsed lease
  // holds for what ran across it, so runs that started during it count as in flight at it, under a label of
  // their own so the report shows them apart. Nothing after its end does: a claim sent during it that
  // comes back with a lapsed lease is renewed before it runs (src/worker/late-claims.ts).
  const leaseMs = ctx.cluster.config.leaseSeconds * 1000;
  for (const [n, outage] of ctx.outages.windows.entries()) {
    if (outage.end === null || outage.end - outage.start < leaseMs) continue;
    const { start, end } = outage;
    const runs = effects.runs.filter((run) => run.phase !== "end" && run.at >= start && run.at <= end);
    ledger.allowStartedUnrecorded(`${outage.kind}-lapsed-leases-${n}`, runs);
  }

  // A worker stopped between beginning an attempt and its body's first line logs that run after it continues.
  for (const freeze of ctx.freezes) {
    const begun = (effects.startsByPid.get(freeze.pid) ?? []).filter((run) => run.began <= freeze.stoppedAt && run.at > freeze.stoppedAt);
    ledger.allowStartedUnrecorded(freeze.fault, begun);
  }

  // At-least-once, and no more: a step body meant to return ran twice only if it was in flight at a fault.
  const byFault: Record<string, number> = {};
  const notInFlight: unknown[] = [];
  let dupSteps = 0;
  let extraRuns = 0;
  let poisonRuns = 0;
  let onlyLapsedLeases = 0;
  for (const [key, starts] of effects.startsByKey) {
    const returns = starts.filter((run) => run.phase === "run");
    const poisoned = key.endsWith(" explode");
    if (poisoned) poisonRuns += returns.length;
    if (returns.length < 2) continue;
    const faults = ledger.inFlightAt.get(key) ?? [];
    if (returns.length - 1 > faults.length) {
      // What ran around them (from a lease before the first run to the last), so a failure can be explained.
      const [first, last] = [returns[0]!.at - leaseMs, returns[returns.length - 1]!.at];
      const near = ctx.timeline.filter((f) => f.end >= first && f.start <= last);
      const zombies = ctx.zombies.filter((z) => (z.thawedAt ?? Number.POSITIVE_INFINITY) >= first && z.stoppedAt <= last);
      notInFlight.push({ key, runs: returns, inFlightAt: faults, faultsNear: near, ...(zombies.length > 0 ? { zombies } : {}) });
    }
    if (poisoned) continue;
    dupSteps += 1;
    extraRuns += returns.length - 1;
    if (faults.length > 0 && faults.every((fault) => fault.includes("-lapsed-leases-"))) onlyLapsedLeases += 1;
    for (const fault of faults) {
      const kind = fault.replace(/-\d+$/, "");
      byFault[kind] = (byFault[kind] ?? 0) + 1;
    }
  }
  checks.push(check("only steps in flight at a fault ran twice", notInFlight));
  checks.push(
    check(
      "a step in flight at a worker kill ran again elsewhere (at-least-once)",
      [],
      ctx.counts.workerKills === 0 || (byFault["worker-kill"] ?? 0) > 0,
      `${byFault["worker-kill"] ?? 0} such steps`,
    ),
  );

  // Every recorded step (of the step kind) really ran.
  const records = await db.query<{ execution_id: string; name: string; result: string | null }>(
    "SELECT execution_id, name, result FROM chaos.steps WHERE state = 'completed' AND kind = 'step'",
  );
  checks.push(
    check(
      "every recorded step ran",
      records.filter((r) => !effects.startsByKey.has(stepKey(r.execution_id, r.name))),
    ),
  );

  // The zombie's late writes: its slow steps returned after others took over; none may have been recorded.
  let attempted = 0;
  let rejected = 0;
  const accepted: unknown[] = [];
  for (const z of ctx.zombies) {
    for (const held of z.held) {
      const ended = effects.runs.some((run) => run.phase === "end" && run.pid === z.pid && run.execution === held.id);
      if (!ended) continue;
      attempted += 1;
      const record = records.find((r) => r.execution_id === held.id && r.name === "slow");
      const recordedPid = record ? (JSON.parse(record.result ?? "{}") as { pid?: number }).pid : undefined;
      if (record && recordedPid !== z.pid) rejected += 1;
      else accepted.push({ execution: held.id, zombie: z.pid, recordedPid });
    }
  }
  const zombiesDue = ctx.cluster.config.zombies;
  checks.push(
    check(
      "every late write of the zombie was rejected",
      accepted,
      accepted.length === 0 && attempted > 0 === zombiesDue > 0,
      `${rejected} of ${attempted}`,
    ),
  );
  checks.push(
    check(
      "the zombie was stopped for longer than its lease",
      ctx.counts.zombieStoppedMs.filter((ms) => ms <= leaseMs),
      ctx.counts.zombies === zombiesDue && ctx.counts.zombieStoppedMs.every((ms) => ms > leaseMs),
      `stopped ${ctx.counts.zombieStoppedMs.join(", ")} ms, lease ${leaseMs} ms`,
    ),
  );
  checks.push(
    check(
      "every worker kill landed mid-step",
      [],
      ctx.counts.workerKillsMidStep === ctx.counts.workerKills,
      `${ctx.counts.workerKillsMidStep} of ${ctx.counts.workerKills}`,
    ),
  );

  checks.push(...(await countChecks(ctx, rows)));
  const leases = await db.query<{ id: string; lease_owner: string | null }>(
    "SELECT id, lease_owner FROM chaos.executions WHERE status = 'running'",
  );
  checks.push(check("no lease left held (nothing running once drained), by a dead worker or any", leases));
  checks.push(
    check(
      "no 5xx but 503 store_unavailable during an outage",
      http.serverErrors.filter((e) => !e.allowed),
    ),
  );
  checks.push(check("the load's own flows met no unexpected answer", ctx.load.errors));

  return {
    checks,
    executions,
    children: children.length,
    scheduled: ticks.length,
    rows: rows.length,
    stepRuns: effects.runs.filter((run) => run.phase !== "end").length,
    duplicates: { steps: dupSteps, extraRuns, byFault, notInFlight: notInFlight.length, onlyLapsedLeases },
    poisonRuns,
    lateWrites: { attempted, rejected },
  };
}
