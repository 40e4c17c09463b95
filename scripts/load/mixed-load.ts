/**
 * A steady mixed load over HTTP for the soak: executions started at a fixed rate (60% three-step chains,
 * 20% chains with a durable sleep, 20% chains parked on an event that the driver sends a moment later),
 * long-polls on a share of them until they end, and a read of one execution, the stats and a list page
 * now and then. Plain request latencies are collected per window (long-polls apart, they last as long as
 * the execution does); every answer is checked, and any 5xx or transport error is counted.
 */
import { percentile } from "./figures.js";

export interface WindowFigures {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** POST → completed, through the long-poll, for the executions the driver waited on. */
  endToEndP99Ms: number;
  endToEndCount: number;
}

export interface LoadTotals {
  started: number;
  waitedCompleted: number;
  eventsSent: number;
  /** Starts skipped because too many requests were still in flight (the server fell behind). */
  skipped: number;
  serverErrors: number;
  /** Unexpected answers and transport errors, by a short description. */
  failures: Record<string, number>;
}

const TIMEOUT_MS = 30_000;
const MAX_IN_FLIGHT = 2_000;

export class MixedLoad {
  readonly totals: LoadTotals = { started: 0, waitedCompleted: 0, eventsSent: 0, skipped: 0, serverErrors: 0, failures: {} };
  private latencies: number[] = [];
  private endToEnd: number[] = [];
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private began = 0;
  private lastReads = 0;

  constructor(
    private readonly api: string,
    private readonly ratePerSecond: number,
    private readonly headers: Record<string, string> = {},
  ) {}

  start(): void {
    this.began = performance.now();
    this.timer = setInterval(() => this.tick(), 20);
  }

  /** Stops starting work and waits for every request in flight to settle. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** The latencies since the previous call. */
  takeWindow(): WindowFigures {
    const latencies = this.latencies;
    const endToEnd = this.endToEnd;
    this.latencies = [];
    this.endToEnd = [];
    return {
      requests: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      endToEndP99Ms: percentile(endToEnd, 99),
      endToEndCount: endToEnd.length,
    };
  }

  private tick(): void {
    const elapsed = performance.now() - this.began;
    const target = Math.floor((elapsed / 1000) * this.ratePerSecond);
    while (this.due < target) {
      const n = this.due++;
      if (this.inFlight.size >= MAX_IN_FLIGHT) {
        this.totals.skipped++;
        continue;
      }
      this.track(this.execution(n));
    }
    if (elapsed - this.lastReads >= 1000) {
      this.lastReads = elapsed;
      this.track(this.timed("GET", "/stats").then(() => undefined));
      this.track(this.timed("GET", "/executions?limit=20").then(() => undefined));
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.fail(`error: ${(error as Error).message}`));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private fail(what: string): void {
    this.totals.failures[what] = (this.totals.failures[what] ?? 0) + 1;
  }

  /** One request, timed, its answer checked against `expected`; resolves with the parsed body. */
  private async timed(method: string, path: string, body?: unknown, expected: number[] = [200]): Promise<unknown> {
    const started = performance.now();
    const response = await fetch(`${this.api}${path}`, {
      method,
      headers: body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    this.latencies.push(performance.now() - started);
    if (response.status >= 500) this.totals.serverErrors++;
    if (!expected.includes(response.status)) {
      this.fail(`${method} ${path.replace(/exec-[a-z0-9]+/, ":id").replace(/\?.*/, "")} → ${response.status}`);
      return undefined;
    }
    return JSON.parse(text) as unknown;
  }

  private async execution(n: number): Promise<void> {
    const kind = n % 10 < 6 ? "chain" : n % 10 < 8 ? "sleep" : "event";
    const started = performance.now();
    const created = (await this.timed("POST", "/executions", { task: `soak-${kind}`, data: { i: n } }, [201])) as
      | { execution_id: string }
      | undefined;
    if (!created) return;
    this.totals.started++;
    const id = created.execution_id;
    if (kind === "event") {
      await new Promise((resolve) => setTimeout(resolve, 100 + (n % 10) * 90));
      await this.timed("POST", `/events/${id}/go`, { add: 1 }, [200, 202]);
      this.totals.eventsSent++;
    } else if (n % 5 === 1) {
      await this.timed("GET", `/executions/${id}`);
    }
    // Every event execution and a fifth of the others are long-polled to their end.
    if (kind === "event" || n % 5 === 0) await this.waitForEnd(id, started);
  }

  private async waitForEnd(id: string, started: number): Promise<void> {
    const response = await fetch(`${this.api}/executions/${id}/wait?timeout=60`, {
      headers: this.headers,
      signal: AbortSignal.timeout(90_000),
    });
    const body = (await response.json()) as { status?: string };
    if (response.status >= 500) this.totals.serverErrors++;
    if (response.status === 200 && body.status === "completed") {
      this.totals.waitedCompleted++;
      this.endToEnd.push(performance.now() - started);
    } else this.fail(`wait → ${response.status} ${body.status ?? ""}`.trim());
  }
}
