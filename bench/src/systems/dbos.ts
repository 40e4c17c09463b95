/**
 * DBOS Transact 5: durable workflows on Postgres. W1 is one workflow with three `DBOS.runStep`
 * checkpoints; W3 is a workflow parked in `DBOS.recv` woken by `DBOSClient.send`.
 * W20 is one workflow with twenty `DBOS.runStep` checkpoints. parent10 is a workflow that starts ten child
 * workflows with `DBOS.startWorkflow` (recorded as its children, run at once in this process, outside the
 * queue) and awaits their results.
 * Throughput uses a DBOS queue (variant "poll10": dispatcher poll 10 ms, the lowest sensible setting;
 * "default": its 1 s default). Latency uses `DBOS.startWorkflow` in-process ("direct"), the mode that
 * does not wait for a poll, plus the queue with 10 ms polls for contrast.
 * Long because one adapter holds every operation of the system (workflows, enqueue, drain, read-back,
 * latency, event wake), each of them short.
 */
import pg from "pg";
import { deferred, packageVersion, peakRss, pooled, postgresUrl, sleep, timed, waitUntil, withClient } from "../util.js";
import {
  CHILDREN,
  chainLength,
  chainStep,
  childInput,
  type Input,
  OutputTally,
  stepA,
  stepB,
  stepC,
  type TallySummary,
  type ThroughputWorkload,
  w0,
} from "../workloads.js";
import type {
  BenchSystem,
  DrainResult,
  EnqueueOptions,
  LatencyConfig,
  LatencyResult,
  Mode,
  Target,
  ThroughputConfig,
  ThroughputFigure,
} from "./types.js";
import { LATENCY_WARMUP } from "./types.js";

const APP = "zbench";
const QUEUE = "bench";

async function sdk() {
  return import("@dbos-inc/dbos-sdk");
}

function pollMs(variant: string): number {
  return variant === "default" ? 1000 : 10;
}

interface Workflows {
  w0: (input: Input) => Promise<number>;
  w1: (input: Input) => Promise<number>;
  w3: (input: Input) => Promise<number>;
  w20: (input: Input) => Promise<number>;
  parent10: (input: Input) => Promise<number>;
}

/**
 * Registers the three workflows; `onOutput` sees each output inside the worker (the tally), `onParked`
 * fires just before a W3 workflow blocks in recv.
 */
async function register(onOutput: (i: number, output: number) => void, onParked: (i: number) => void = () => {}): Promise<Workflows> {
  const { DBOS } = await sdk();
  const w0wf = DBOS.registerWorkflow(
    async (input: Input) => {
      const out = w0(input);
      onOutput(input.i, out);
      return out;
    },
    { name: "w0" },
  );
  const w1wf = DBOS.registerWorkflow(
    async (input: Input) => {
      const a = await DBOS.runStep(async () => stepA(input.i), { name: "a" });
      const b = await DBOS.runStep(async () => stepB(a), { name: "b" });
      const c = await DBOS.runStep(async () => stepC(b), { name: "c" });
      onOutput(input.i, c);
      return c;
    },
    { name: "w1" },
  );
  const w3wf = DBOS.registerWorkflow(
    async (input: Input) => {
      await DBOS.runStep(async () => input.i, { name: "a" });
      onParked(input.i);
      const message = await DBOS.recv<number>("go", 60);
      const out = input.i + (message ?? Number.NaN);
      onOutput(input.i, out);
      return out;
    },
    { name: "w3" },
  );
  const w20wf = DBOS.registerWorkflow(
    async (input: Input) => {
      let x = input.i;
      for (let j = 0; j < 20; j++) {
        const prev = x;
        x = await DBOS.runStep(async () => chainStep(prev, j), { name: `s${j}` });
      }
      onOutput(input.i, x);
      return x;
    },
    { name: "w20" },
  );
  const child = DBOS.registerWorkflow(async (input: Input) => w0(input), { name: "child" });
  const parent10 = DBOS.registerWorkflow(
    async (input: Input) => {
      // Child IDs are reserved synchronously at each call, so starting them together replays the same.
      const handles = await Promise.all(
        Array.from({ length: CHILDREN }, (_, k) => DBOS.startWorkflow(child)({ i: childInput(input.i, k) })),
      );
      const outputs = await Promise.all(handles.map((h) => h.getResult()));
      const sum = outputs.reduce((a, b) => a + b, 0);
      onOutput(input.i, sum);
      return sum;
    },
    { name: "parent10" },
  );
  return { w0: w0wf, w1: w1wf, w3: w3wf, w20: w20wf, parent10 };
}

/** The workflow a throughput run of `workload` enqueues (its registered name). */
function workflowFor(workload: ThroughputWorkload): string {
  if (workload === "w0" || workload === "w1" || workload === "w20" || workload === "parent10") return workload;
  throw new Error(`DBOS has no workflow for ${workload} (chain of ${chainLength(workload)} steps: Zart only)`);
}

async function configure(url: string): Promise<void> {
  const { DBOS } = await sdk();
  DBOS.setConfig({ name: APP, systemDatabaseUrl: url, logLevel: "warn", applicationVersion: "bench" });
}

async function withDbosClient<T>(url: string, fn: (client: import("@dbos-inc/dbos-sdk").DBOSClient) => Promise<T>): Promise<T> {
  const { DBOSClient } = await sdk();
  const client = await DBOSClient.create({ systemDatabaseUrl: url, applicationName: APP });
  try {
    return await fn(client);
  } finally {
    await client.destroy();
  }
}

/** The queue's settings are stored in the database: set them before the worker starts (untimed). */
async function configureQueue(url: string, concurrency: number, variant: string): Promise<void> {
  await withDbosClient(url, (client) =>
    client.registerQueue(QUEUE, { workerConcurrency: concurrency, minPollingIntervalMs: pollMs(variant), onConflict: "always_update" }),
  );
}

async function enqueue(target: Target, workload: ThroughputWorkload, n: number, { mode }: EnqueueOptions = {}): Promise<number> {
  const url = postgresUrl(target);
  const options = { workflowName: workflowFor(workload), queueName: QUEUE, appVersion: "bench" };
  let ms = 0;
  await withDbosClient(url, async (client) => {
    if (mode === "sequential") {
      ms = await timed(async () => {
        for (let i = 0; i < n; i++) await client.enqueue(options, { i });
      });
    } else if (mode === "concurrent50" || mode === undefined) {
      ms = await timed(() => pooled(n, 50, (i) => client.enqueue(options, { i })));
    } else {
      // DBOS has no bulk enqueue: N enqueueInTransaction calls inside one transaction.
      const pgClient = new pg.Client({ connectionString: url });
      await pgClient.connect();
      try {
        ms = await timed(async () => {
          await pgClient.query("begin");
          for (let i = 0; i < n; i++) await client.enqueueInTransaction(pgClient, options, { i });
          await pgClient.query("commit");
        });
      } finally {
        await pgClient.end();
      }
    }
  });
  return ms;
}

async function countSuccess(client: pg.Client, name: string): Promise<number> {
  const { rows } = await client.query("select count(*)::int as n from dbos.workflow_status where status = 'SUCCESS' and name = $1", [name]);
  return rows[0].n as number;
}

async function drain(target: Target, config: ThroughputConfig): Promise<DrainResult> {
  const url = postgresUrl(target);
  await configureQueue(url, config.concurrency, config.variant);
  const { DBOS } = await sdk();
  const tally = new OutputTally(config.workload, config.n);
  const allRan = deferred();
  await configure(url);
  await register((i, output) => {
    tally.record(i, output);
    if (tally.done) allRan.resolve();
  });
  const started = performance.now();
  await DBOS.launch();
  await allRan.promise;
  // Durably complete = N workflow rows in SUCCESS (the output is written after the function returns).
  const polls = await withClient(url, (client) =>
    // A parent succeeds after its children, so counting parents covers them.
    waitUntil(async () => (await countSuccess(client, workflowFor(config.workload))) >= config.n, 5, 60_000, "DBOS workflows to succeed"),
  );
  const elapsedMs = performance.now() - started;
  await DBOS.shutdown();
  return { elapsedMs, tally: tally.summary(), rssPeak: peakRss(), ownTransactions: polls };
}

/** Reads back every stored output and its input, as DBOS recorded them. */
async function storedOutputs(target: Target, config: ThroughputConfig): Promise<TallySummary> {
  const { rows } = await withClient(postgresUrl(target), (client) =>
    // 5.x keeps inputs and outputs in side tables keyed by workflow id.
    client.query(
      `select i.inputs, o.output from dbos.workflow_status s
         join dbos.workflow_input i using (workflow_uuid) join dbos.workflow_output o using (workflow_uuid)
        where s.status = 'SUCCESS' and s.name = $1`,
      [workflowFor(config.workload)],
    ),
  );
  const tally = new OutputTally(config.workload, config.n);
  for (const row of rows as { inputs: string; output: string }[]) tally.record(decodeInput(row.inputs), decodeNumber(row.output));
  return tally.summary();
}

/** DBOS serializes with its own JSON envelope; dig out the number wherever it sits. */
function decodeNumber(text: string): number {
  const value: unknown = JSON.parse(text);
  if (typeof value === "number") return value;
  if (value && typeof value === "object" && "json" in value) return Number((value as { json: unknown }).json);
  return Number.NaN;
}

function decodeInput(text: string): number {
  const match = /"i"\s*:\s*(-?\d+)/.exec(text);
  return match ? Number(match[1]) : -1;
}

/**
 * Caller and worker in one process. "direct": `DBOS.startWorkflow` runs the workflow at once in this
 * process and `getResult` awaits it; "poll10": the workflow goes through the queue (10 ms dispatcher
 * poll) and `getResult` polls every 10 ms. Worker-side time = start → the function returned.
 */
async function latency(target: Target, config: LatencyConfig): Promise<LatencyResult> {
  const url = postgresUrl(target);
  const { DBOS } = await sdk();
  const total = config.samples + config.warmup;
  const tally = new OutputTally(config.workload, total);
  const returnedAt = new Map<number, number>();
  if (config.variant !== "direct") await configureQueue(url, 10, config.variant);
  await configure(url);
  const workflows = await register((i, output) => {
    returnedAt.set(i, performance.now());
    tally.record(i, output);
  });
  await DBOS.launch();
  const samplesMs: number[] = [];
  const workerSideMs: number[] = [];
  const params = config.variant === "direct" ? {} : { queueName: QUEUE };
  try {
    for (let i = 0; i < total; i++) {
      if (config.variant !== "direct") await sleep(Math.random() * pollMs(config.variant));
      const started = performance.now();
      const handle = await DBOS.startWorkflow(workflows[config.workload], params)({ i });
      await handle.getResult({ pollingIntervalMs: pollMs(config.variant) } as never);
      const ended = performance.now();
      if (i >= config.warmup) {
        samplesMs.push(ended - started);
        workerSideMs.push((returnedAt.get(i) ?? Number.NaN) - started);
      }
    }
  } finally {
    await DBOS.shutdown();
  }
  return { samplesMs, workerSideMs, tally: tally.summary() };
}

/** W3: the workflow checkpoints a step and parks in recv; 20 ms later the caller sends; timed send → result. */
async function eventWake(target: Target, samples: number, warmup: number): Promise<LatencyResult> {
  const url = postgresUrl(target);
  const { DBOS, DBOSClient } = await sdk();
  const total = samples + warmup;
  const tally = new OutputTally("w3", total);
  const parked = new Map<number, () => void>();
  await configure(url);
  const workflows = await register(
    (i, output) => tally.record(i, output),
    (i) => parked.get(i)?.(),
  );
  await DBOS.launch();
  const client = await DBOSClient.create({ systemDatabaseUrl: url, applicationName: APP });
  const samplesMs: number[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const isParked = deferred();
      parked.set(i, () => isParked.resolve());
      const handle = await DBOS.startWorkflow(workflows.w3)({ i });
      await isParked.promise;
      await sleep(20);
      const started = performance.now();
      await client.send(handle.workflowID, 0, "go");
      await handle.getResult();
      if (i >= warmup) samplesMs.push(performance.now() - started);
    }
  } finally {
    await client.destroy();
    await DBOS.shutdown();
  }
  return { samplesMs, tally: tally.summary() };
}

export const dbosSystem: BenchSystem = {
  id: "dbos",
  storage: "postgres",
  async label() {
    return `dbos ${packageVersion("@dbos-inc/dbos-sdk")}`;
  },
  async migrate(target) {
    const { DBOS } = await sdk();
    await DBOS.migrate(postgresUrl(target));
    await configureQueue(postgresUrl(target), 10, "poll10");
  },
  throughputConfigs(mode: Mode, figure: ThroughputFigure): ThroughputConfig[] {
    const n = { tiny: 30, quick: 300, full: 2000 }[mode];
    if (figure === "w20") {
      const nW20 = { tiny: 10, quick: 100, full: 300 }[mode];
      return [10, 50].map((concurrency) => ({ workload: "w20", concurrency, variant: "poll10", n: nW20 }));
    }
    if (figure === "children")
      return [{ workload: "parent10", concurrency: 10, variant: "poll10", n: { tiny: 5, quick: 60, full: 200 }[mode] }];
    if (figure !== "throughput") return [];
    const configs: ThroughputConfig[] = [
      { workload: "w1", concurrency: 10, variant: "poll10", n },
      { workload: "w1", concurrency: 50, variant: "poll10", n },
      { workload: "w0", concurrency: 10, variant: "poll10", n },
      { workload: "w0", concurrency: 50, variant: "poll10", n },
    ];
    if (mode === "full") configs.push({ workload: "w1", concurrency: 50, variant: "default", n: 200 });
    return configs;
  },
  latencyConfigs(mode: Mode): LatencyConfig[] {
    const samples = { tiny: 10, quick: 60, full: 200 }[mode];
    return [
      { workload: "w0", variant: "direct", samples, warmup: LATENCY_WARMUP[mode] },
      { workload: "w1", variant: "direct", samples, warmup: LATENCY_WARMUP[mode] },
      { workload: "w1", variant: "poll10", samples, warmup: LATENCY_WARMUP[mode] },
    ];
  },
  enqueueModes: () => ["sequential", "concurrent50", "batch"],
  enqueue,
  drain,
  storedOutputs,
  latency,
  eventWake,
  describeVariant(variant) {
    if (variant === "direct") return "direct (DBOS.startWorkflow in-process, no queue)";
    if (variant === "event") return "DBOSClient.send → getResult of an in-process workflow blocked in DBOS.recv";
    return `queue, poll=${pollMs(variant)}ms${variant === "default" ? " (default)" : ""}`;
  },
};
