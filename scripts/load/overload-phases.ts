/**
 * The phases of `npm run overload`, each against a real `zart-server` it starts (API only: the load is on
 * the HTTP side and the store, and no worker competes for the two cores):
 * - long-polls: N executions that stay pending (created through a server that loads the task module),
 *   then one `GET /executions/:id/wait` per execution on a socket of its own against a second API server
 *   on the same file that loads no task module, as a front for waiting clients is deployed (it learns
 *   tasks from the workers' registrations, and a wait needs none): its RSS and heap with all of them
 *   open (then they are cut, and must all be freed); optionally a heap snapshot before and with them;
 * - burst: N POSTs, C at a time, every answer counted by status, the server's RSS sampled throughout;
 * - back-pressure (PostgreSQL): the executions table locked, C POSTs at once against a bound B: how many
 *   are refused with 503 + Retry-After, what the server holds meanwhile, and that every accepted one is
 *   stored once the lock goes.
 */
import http from "node:http";
import pg from "pg";
import type { ServerProcess } from "../../test/support/server-process.js";
import { mb } from "./figures.js";
import { procRssBytes, readProcessFigures } from "./server-metrics.js";

export interface RssSampler {
  stop(): number;
}

/** Samples a process's RSS every `everyMs`; `stop()` returns the peak in MB. */
export function sampleRss(pid: number, everyMs = 100): RssSampler {
  let peak = procRssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procRssBytes(pid));
    } catch {
      // the process ended
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return mb(peak);
    },
  };
}

async function postExecution(api: string, i: number): Promise<{ status: number; id?: string; retryAfter: string | null }> {
  const response = await fetch(`${api}/executions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ task: "soak-chain", data: { i } }),
  });
  const body = (await response.json()) as { execution_id?: string };
  return { status: response.status, id: body.execution_id, retryAfter: response.headers.get("retry-after") };
}

/** Runs `work(i)` for i in [0, n) with at most `inFlight` at once. */
export async function pooled(n: number, inFlight: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(inFlight, n) }, async () => {
    while (next < n) await work(next++);
  });
  await Promise.all(lanes);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface LongPollFigures {
  polls: number;
  opened: number;
  baselineRssMb: number;
  /** The peak over 10 s with every poll open. */
  rssWithPollsMb: number;
  perPollKb: number;
  /** Heap figures as /metrics reports them, garbage included (no collection is forced); what a poll holds
   * on the heap comes from the heap snapshots instead. */
  baselineHeapUsedMb: number;
  heapUsedWithPollsMb: number;
  heapTotalWithPollsMb: number;
  youngGenerationWithPollsMb: number;
  openAfterCut: number;
}

const HOLD_MS = 10_000;

/** The peak of a process's RSS over `ms`, read every 250 ms. */
async function peakRss(pid: number, ms: number): Promise<number> {
  const sampler = sampleRss(pid, 250);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return sampler.stop();
}

/** Takes a heap snapshot of the server; `moment` names it ("baseline", "with-polls"). */
export type HeapSnapshotter = (moment: string) => Promise<void>;

/** Creates `count` executions through the server's API (nothing runs them: the server has no worker). */
export async function seedExecutions(server: ServerProcess, count: number): Promise<string[]> {
  const api = `${server.url}/api/v1`;
  const ids: string[] = new Array(count);
  await pooled(count, 50, async (i) => {
    const created = await postExecution(api, i);
    if (created.status !== 201 || !created.id) throw new Error(`POST answered ${created.status}`);
    ids[i] = created.id;
  });
  return ids;
}

/** One long-poll per execution in `ids`, all open at once; the server's figures with them open. */
export async function longPolls(server: ServerProcess, ids: readonly string[], snapshot?: HeapSnapshotter): Promise<LongPollFigures> {
  const count = ids.length;
  const pid = server.child.pid!;
  const baseline = await readProcessFigures(server.url);
  const baselineRssMb = mb(procRssBytes(pid));
  await snapshot?.("baseline");
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const { hostname, port } = new URL(server.url);
  const requests: http.ClientRequest[] = [];
  let early = 0;
  for (const id of ids) {
    const request = http.get({ agent, hostname, port, path: `/api/v1/executions/${id}/wait?timeout=600` }, (response) => {
      // An answer before the cut would mean the poll did not stay open.
      early++;
      response.resume();
    });
    request.on("error", () => {});
    requests.push(request);
    if (requests.length % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  let opened = 0;
  await waitFor(
    async () => {
      opened = (await readProcessFigures(server.url)).openLongPolls;
      return opened >= count;
    },
    180_000,
    `${count} open long-polls`,
  );
  const figures = await readProcessFigures(server.url);
  // Held for a while: the figure is what 10,000 open polls keep, not one instant's reading.
  const rssWithPollsMb = await peakRss(pid, HOLD_MS);
  await snapshot?.("with-polls");
  if (early > 0) throw new Error(`${early} long-polls were answered before the cut`);
  for (const request of requests) request.destroy();
  agent.destroy();
  let openAfterCut = count;
  await waitFor(
    async () => {
      openAfterCut = (await readProcessFigures(server.url)).openLongPolls;
      return openAfterCut === 0;
    },
    60_000,
    "the cut long-polls to be freed",
  );
  return {
    polls: count,
    opened,
    baselineRssMb,
    rssWithPollsMb,
    perPollKb: ((rssWithPollsMb - baselineRssMb) * 1024) / count,
    baselineHeapUsedMb: mb(baseline.heapUsedBytes),
    heapUsedWithPollsMb: mb(figures.heapUsedBytes),
    heapTotalWithPollsMb: mb(figures.heapTotalBytes),
    youngGenerationWithPollsMb: mb(figures.youngGenerationBytes),
    openAfterCut,
  };
}

export interface BurstFigures {
  posts: number;
  concurrency: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  transportErrors: number;
  seconds: number;
  perSecond: number;
  baselineRssMb: number;
  peakRssMb: number;
  rssAfterMb: number;
  storedRows: number;
}

async function storedRows(api: string): Promise<number> {
  const stats = (await (await fetch(`${api}/stats`)).json()) as Record<string, number>;
  return Object.values(stats).reduce((sum, n) => sum + n, 0);
}

export async function burst(server: ServerProcess, posts: number, concurrency: number): Promise<BurstFigures> {
  const api = `${server.url}/api/v1`;
  const pid = server.child.pid!;
  const before = await storedRows(api);
  const baselineRssMb = mb(procRssBytes(pid));
  const sampler = sampleRss(pid);
  const byStatus: Record<string, number> = {};
  let transportErrors = 0;
  const started = performance.now();
  await pooled(posts, concurrency, async (i) => {
    try {
      const { status } = await postExecution(api, i);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    } catch {
      transportErrors++;
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = sampler.stop();
  return {
    posts,
    concurrency,
    byStatus,
    serverErrors: Object.entries(byStatus).reduce((sum, [status, n]) => sum + (Number(status) >= 500 ? n : 0), 0),
    transportErrors,
    seconds,
    perSecond: posts / seconds,
    baselineRssMb,
    peakRssMb,
    rssAfterMb: mb(procRssBytes(pid)),
    storedRows: (await storedRows(api)) - before,
  };
}

export interface BackPressureFigures {
  bound: number;
  posts: number;
  refusedWhileLocked: number;
  refusedWithRetryAfter: number;
  otherAnswersWhileLocked: number;
  heldWhileLocked: number;
  peakRssWhileLockedMb: number;
  createdAfterUnlock: number;
  storedRows: number;
}

/** `lockUrl`/`table`: the database and the executions table to lock (SHARE: reads go on, inserts wait). */
export async function backPressure(
  server: ServerProcess,
  lockUrl: string,
  table: string,
  bound: number,
  posts: number,
): Promise<BackPressureFigures> {
  const api = `${server.url}/api/v1`;
  const before = await storedRows(api);
  const lock = new pg.Client({ connectionString: lockUrl });
  await lock.connect();
  await lock.query("BEGIN");
  await lock.query(`LOCK TABLE ${table} IN SHARE MODE`);
  const answers: Array<{ status: number; retryAfter: string | null }> = [];
  const sampler = sampleRss(server.child.pid!);
  const all = Array.from({ length: posts }, (_, i) =>
    postExecution(api, i).then(
      (answer) => void answers.push(answer),
      () => void answers.push({ status: 0, retryAfter: null }),
    ),
  );
  // Settled once every POST is either answered or held by the store, waiting for the lock (a count the
  // server reports, not a pause in the answers, which a loaded machine can make at any point).
  await waitFor(async () => answers.length + (await readProcessFigures(server.url)).pendingInserts === posts, 120_000, "the refusals");
  const whileLocked = [...answers];
  const peakRssWhileLockedMb = sampler.stop();
  await lock.query("COMMIT");
  await lock.end();
  await Promise.all(all);
  const refused = whileLocked.filter((a) => a.status === 503);
  return {
    bound,
    posts,
    refusedWhileLocked: refused.length,
    refusedWithRetryAfter: refused.filter((a) => a.retryAfter === "1").length,
    otherAnswersWhileLocked: whileLocked.length - refused.length,
    heldWhileLocked: posts - whileLocked.length,
    peakRssWhileLockedMb,
    createdAfterUnlock: answers.slice(whileLocked.length).filter((a) => a.status === 201).length,
    storedRows: (await storedRows(api)) - before,
  };
}
