/**
 * Renders BENCHMARKS.md from a results JSON: the tables, the targets, the versions, the machine and the
 * caveats. `npm run bench:full` calls it at the end; to re-render an earlier run:
 *
 *   npx tsx src/render-benchmarks.ts results/<file>.json [../BENCHMARKS.md]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { reportTables } from "./report.js";
import type { Results } from "./results.js";
import { renderTable } from "./table.js";

function machineSection(results: Results): string {
  const m = results.machine;
  const pg = m.postgres
    ? `PostgreSQL ${m.postgres} on 127.0.0.1 (${Object.entries(m.postgresSettings)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")})`
    : "PostgreSQL not used in this run";
  return [
    "## Machine",
    "",
    `- ${m.cpus} CPU cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.platform}; load average at start ${m.loadAverageAtStart.join(" / ")}`,
    `- Node ${m.node}`,
    `- ${pg}`,
    "- Postgres, the worker processes, the HTTP servers and the load generators all share these cores.",
    "",
  ].join("\n");
}

function versionsSection(results: Results): string {
  const rows = Object.entries(results.versions).map(([id, label]) => `| ${id} | ${label} |`);
  return [
    "## Versions",
    "",
    "| system | version |",
    "|---|---|",
    ...rows,
    "",
    "Zart is the working tree named by its git revision (`+dirty`: uncommitted changes in src/).",
    "",
  ].join("\n");
}

const METHOD = `## Method

- **Workloads**, the same logic in every system (bench/src/workloads.ts): **W0** one unit (returns its input
  at once); **W1** three steps (input {i}; a = i+1; b = a*2; c = b-1; output c). Zart and DBOS run W1 as one
  workflow with three checkpointed steps; graphile-worker and pg-boss have no steps, so they run **W1-chain**,
  job a enqueues job b enqueues job c. **W3** event wake: an execution checkpoints a step and parks on an
  event; 20 ms after it is durably parked the caller delivers the event; timed from delivery until the caller
  sees the execution completed (Zart \`deliverEvent\` → \`waitForTerminal\`, DBOS \`DBOSClient.send\` → \`getResult\`
  on a workflow blocked in \`DBOS.recv\`). The job queues have no durable event wait.
- **W20**: twenty sequential steps, step j maps x to (3x + j) mod 1,000,003 starting from x = i (a skipped,
  repeated or reordered step changes the output). Zart and DBOS run one workflow with twenty checkpointed
  steps; graphile-worker and pg-boss run **W20-chain**, one job type that enqueues its next step twenty
  times (pg-boss: one queue with C loops, where W1-chain has three queues with C loops each).
- **K steps per execution** (Zart only): the same chain with K = 1, 10, 50, 200 at C=10; N is about
  10,000 steps per cell in quick mode (20,000 in full) ÷ K, at least 4 and at most the W1 cells' N. Per step =
  elapsed ÷ N ÷ K and Postgres transactions ÷ N ÷ K; at K=1 the step carries its execution's claim and completion.
- **W0 with priorities and concurrency keys**, beside plain W0 at the same C, N and worker settings,
  enqueued the same way: "priority" gives execution i a priority 0-9 (a fixed hash of i); "keyed" runs a
  task with \`concurrency: { limit: 1000, key }\` over 100 keys, so every claim and completion keeps its
  key's slot count while the limit never binds. graphile-worker's tuned runner takes the same priority mix
  ("tuned-priority", beside its tuned W0): the peer's own cost of running jobs in priority order.
- **Parent + 10 children**: a parent starts ten W0-like children in parallel and returns the sum of their
  outputs (Zart: \`Promise.all\` over \`ctx.runChild\`; DBOS: \`DBOS.startWorkflow\` of a child workflow inside the
  parent workflow, then \`getResult\`). N counts parents; durably complete = every parent and child stored as
  completed (DBOS: every parent in SUCCESS, which a parent reaches only after its children).
- **Fresh database per run.** Each system has a template database migrated at the start of the bench
  (\`zbench_<system>_tpl\`); every run drops and re-creates \`zbench_<system>\` from it. SQLite runs copy a
  migrated template file.
- **Round-robin repetitions.** Every measurement runs once per round; rounds repeat (full mode: 3), so drift
  on the shared machine spreads over all systems. Tables show the median over runs with min–max; ratios are
  ratios of medians from the same invocation.
- **Every run checks every output.** Handlers count each input's completion (a duplicate or a gap fails the
  run), the sum of outputs must equal the expected sum and the count must equal N; where the system stores
  outputs (Zart, DBOS) they are read back from the database and checked the same way.
- **Worker throughput.** N executions are enqueued first (untimed, by the bench process). Then ONE new worker
  process starts; its clock starts just before the worker start call (Zart \`Engine.start\`, DBOS
  \`DBOS.launch\`, graphile \`run\`, pg-boss \`start\` + \`work\`), so it includes start-up but not module loading,
  and stops once every handler has run and a database query confirms all N are durably complete.
- **Postgres transactions per execution**: \`pg_stat_database.xact_commit\` of the run's database, read once
  every session has disconnected before and after the worker process, minus the harness's own completion
  polls, ÷ N. It does not depend on the machine's speed.
- **Enqueue rate**: one client process; sequential awaits (N = 2,000 in full mode), 50 in flight (N =
  10,000) and each system's batch API (N = 10,000). The clock covers the enqueue calls only: each system's
  client set-up and tear-down (Zart \`Engine.start\` and \`stop\`, graphile \`makeWorkerUtils\`, pg-boss
  \`start\`, the DBOS client) are outside it, for every system alike.
- **Zart as installed**: the compiled package (\`dist/\`, built by \`npm run bench\`), in process and as
  \`zart-server\` (\`bin/\`); the bench's task module is TypeScript, loaded through tsx as a user's would
  be. The peers run from their npm packages.
- **Latency**: one execution at a time, caller and an idle worker (concurrency 10) in one process. Each
  figure runs in a fresh process, so its first samples run cold: every system whose samples are quick runs
  600 warm-up samples first (event wake: 200, 50 in quick mode) and drops them, as a worker in service runs
  warm (\`LATENCY_WARMUP\` in \`bench/src/systems/types.ts\` has the measurement); pg-boss, whose samples
  each wait on its poll, drops one. Zart's headline is in-process (\`engine.schedule\` →
  \`engine.waitForTerminal\`), the same shape as DBOS's in-process \`startWorkflow\` → \`getResult\`; Zart
  over HTTP is shown separately.
- **HTTP**: autocannon (50 connections, fixed duration) from the bench process against zart-server on
  127.0.0.1, beside fastify's hello world measured the same way. GET status is measured after the worker
  has drained what the POST load created; it asks for one finished execution, which zart-server serves
  from memory after its first read (a terminal record never changes), so it measures the HTTP path.
- **Scale**: rows bulk-inserted with SQL (generate_series / a recursive CTE) into the store's own tables,
  then \`VACUUM ANALYZE\` (Postgres) / \`ANALYZE\` (SQLite); store calls timed one at a time: status
  (\`getExecution\` of a random row), list (first page of 50 with its total, no filter and by status), claim
  (one due row). Memory: worker RSS once N executions sleep (\`ctx.sleep("1h")\`); zart-server RSS with N
  open \`GET /executions/:id/wait\` long-polls, one connection each, read from /proc.
- **Retention** (PostgreSQL): a fresh database per phase holds the old executions (one step record each,
  ended a year ago, inserted with generate_series); one worker process drains N W0 executions, then single
  claims are timed, once alone and once while another process prunes every old execution
  (\`engine.prune\`, batches of 500). docs/decisions/009-retention-pruning.md.
`;

const CAVEATS = `## Caveats

- **Noisy 2-core machine.** Postgres, workers, servers and load generators share two cores with whatever
  else runs. Compare ratios and medians from the same run, not absolute numbers across days: the same
  commit has measured ~1.5x apart on different days here, so the absolute thresholds (latency in ms, SQLite
  req/s) depend on the day's machine; fastify's hello world in the HTTP table is the yardstick for HTTP,
  and one single-row INSERT commit (the latency table's PostgreSQL yardstick row) for the latency
  thresholds: on this kind of VM it has measured from 0.3 to 0.7 ms within one day. The yardstick sends
  its commits back to back; a commit sent after a pause costs more here (the idle virtual CPUs have to be
  woken): \`bench/src/probe-latency.ts\` measured the same single-row commit at 0.7-1.1 ms between W0
  samples and 1.29 ms after a 5 ms pause, against 0.31-0.36 ms back to back in the same hour. The VM's
  idle driver is \`haltpoll\` with \`guest_halt_poll_ns=0\` (an idle vCPU halts at once).
  \`bench/src/probe-commit-pause.ts\` with \`PROBE_PM_QOS=1\` holds \`/dev/cpu_dma_latency\` at 0 (what tuned's
  latency-performance profile does; not used for any figure here): in two hours of one day it measured a
  back-to-back commit at 0.83 -> 0.35 ms and 0.43 -> 0.39 ms, and one after a 5 ms pause at 1.08 -> 0.88 ms
  and 0.83 -> 0.81 ms, so most of the cost after a pause is not the guest's idle state.
- **Latency warm-up.** The latency rows drop 600 warm-up samples per figure (event wake: 200); before
  2026-11-30 they dropped 5. The full run of 5399b45 that morning (the same engine code, 30 minutes before
  6788aa5's run on the same machine; \`bench/results/2026-11-30T05-31-59-978Z-full.json\`) measured with 5,
  p50 in ms (with 600 in brackets, 6788aa5's run): Zart W0 1.40 (1.22), W1 3.52 (2.44), event wake 2.45
  (2.08); DBOS W0 3.13 (2.59), W1 7.68 (7.36), event 5.62 (5.16); graphile-worker W0 2.78 (2.30), W1 7.16
  (6.87). Zart's W1 moves most, and it is the threshold the cold figures missed.
- **Different guarantees.** Zart and DBOS store inputs, each step's result and the output, and a caller can
  await the result; graphile-worker deletes finished jobs and pg-boss keeps them as \`completed\` without our
  output. The job queues' W1-chain is three independent jobs, not a workflow.
- **SQLite durability.** Zart's SQLite store defaults to \`synchronous=normal\` in WAL mode (survives a
  process crash; a power loss can drop the last commits), while Postgres here commits with
  \`synchronous_commit=on\`. The SQLite figures are the embedded, one-machine mode.
- **Zart eager start/resume.** The Zart in-process latency rows use the engine's default: \`schedule()\`
  and event delivery in the process whose worker runs the task claim the execution in the same write when
  a slot is free (like DBOS's direct \`startWorkflow\`). The "queued" rows turn that off (insert, notice,
  claim). Over HTTP the server follows the same default (one \`POST\` at a time starts at once in the server's worker).
  The eager run starts before that write, which waits for the run's first write within the event-loop turn
  (docs/engine.md): a W0 is inserted already completed, one commit. The event-wake row delivers to a run
  that this process parked, which Zart resumes from the steps it remembers before the delivery is written,
  so W3's resume and completion are one commit too; delivered from a process that did not park it, it is
  two (delivery with claim, then completion; docs/decisions/007-eager-start-and-resume.md measures both).
- **Zart step records.** A Zart step's record commits before the next step's function starts, and the
  record of a workflow's last step commits in the same transaction as its completion (docs/engine.md), so
  an in-process W1 is four commits in sequence (insert, a, b, c with the completion) and W0 one.
- **Zart slots.** A Zart run whose code is done gives its slot to the next execution while its final write
  commits; C bounds running task code, not uncommitted completions (at most C + prefetch more of those).
- **W0 sizes and the W0 target.** Zart's Postgres W0 cells use graphile's tuned N (40,000), so start-up
  weighs the same in both; Zart's other Postgres cells use 10,000. The W0 target row compares Zart's defaults
  (prefetch "auto": claims ahead only while runs are short) with graphile-worker's opt-in batching; the
  "(also)" row compares it with Zart's fixed prefetch of 100, the counterpart of graphile's local queue.
- **Zart group commit.** Zart's worker batches checkpoints of concurrent executions into one transaction, so
  its transactions per execution fall as concurrency rises; the latency runs (one execution at a time) get
  no such batching across executions.
- **pg-boss 10 polls** (0.5 s minimum interval, no per-worker concurrency option): its rates are loops ×
  batch size ÷ interval, so its N is small; its latency is dominated by the poll interval (samples are
  preceded by a random gap so they do not phase-lock with the poll).
- **graphile-worker "tuned"** uses its local queue and batched completions, which its docs note trade
  latency and crash-safety windows for throughput.
- **DBOS queues** are polled by a dispatcher: the 10 ms setting used here is aggressive (its default is
  1 s, shown in full mode). DBOS's in-process \`startWorkflow\` avoids the queue.
- **Children.** Zart's children are executions of their own, claimed by the worker like any other: C bounds
  parents and children together, and a parent waiting for its children holds no slot. DBOS's child workflows
  started inside a workflow run at once in the same process, outside the queue and its concurrency, so its
  C=10 bounds parents only. Transactions per parent count its children's.
- **Scale fill.** Bulk rows bypass the engine (Postgres triggers off during the fill, counts written
  directly); the rows are valid executions (completed history plus due pending rows for the claims).
- **Quick mode** (\`npm run bench\`) uses small N, 1 run and 100,000 instead of 1,000,000 stored executions;
  only full mode reproduces this file.
`;

export function renderBenchmarks(results: Results, source: string): string {
  const failures =
    results.failures.length === 0
      ? "No measurement failed in this run.\n"
      : `${results.failures.length} measurement(s) failed in this run and are missing from the tables:\n\n${results.failures
          .map((f) => `- ${f.cell} (run ${f.run}): ${f.error.split("\n")[0]}`)
          .join("\n")}\n`;
  return [
    "# Benchmarks",
    "",
    `Zart and its peers measured on the same machine, the same PostgreSQL and the same workloads in one run
(mode **${results.mode}**, ${results.runs} round(s), ${results.startedAt} → ${results.finishedAt}; raw data:
\`bench/results/${basename(source)}\`). Generated by \`bench/src/render-benchmarks.ts\`; do not edit by hand.

Reproduce: \`cd bench && npm install && npm run bench:full\` (roughly 30–50 minutes on 2 cores; a local PostgreSQL on
127.0.0.1:5432, user postgres, trust auth, or \`BENCH_DATABASE_URL\`). \`npm run bench\` at the root runs the
quick version (a few minutes) and only prints the tables.
`,
    machineSection(results),
    versionsSection(results),
    "## Results",
    "",
    ...reportTables(results).map(renderTable),
    "### Failures",
    "",
    failures,
    ...results.notes.map((n) => `Note: ${n}\n`),
    METHOD,
    CAVEATS,
  ].join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, output = "../BENCHMARKS.md"] = process.argv.slice(2);
  if (!input) {
    console.error("usage: tsx src/render-benchmarks.ts results/<file>.json [../BENCHMARKS.md]");
    process.exit(2);
  }
  const results = JSON.parse(readFileSync(input, "utf8")) as Results;
  writeFileSync(output, renderBenchmarks(results, input));
  console.log(`wrote ${output}`);
}
