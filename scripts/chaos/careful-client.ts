/**
 * The run's HTTP client, careful as a real client should be: every request is repeated after no answer
 * (a killed server, a cut connection, a timeout) or a 5xx, with the same body (so the same idempotency
 * key) and a short growing pause, until it gets an answer it can act on. Every answer is counted, and
 * every 5xx is kept with its code and timing for the end checks.
 */
import { setTimeout as pause } from "node:timers/promises";
import { type HttpReply, request } from "../../test/support/processes.js";
import type { Outages } from "./outages.js";

export interface ServerError {
  status: number;
  code: string;
  method: string;
  path: string;
  sentAt: number;
  answeredAt: number;
  /** A 503 store_unavailable while the database was unreachable: the one 5xx the API may give. */
  allowed: boolean;
}

export interface HttpFigures {
  requests: number;
  noAnswer: number;
  byStatus: Record<string, number>;
  serverErrors: ServerError[];
}

/** A request unanswered for this long is treated as lost and repeated (a black hole holds requests for longer). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Past this the client gives up: the run then fails on the execution it could not reach. */
const GIVE_UP_MS = 180_000;

export class CarefulClient {
  readonly figures: HttpFigures = { requests: 0, noAnswer: 0, byStatus: {}, serverErrors: [] };
  private closed = false;

  constructor(
    private readonly apiUrl: () => Promise<string>,
    private readonly outages: Outages,
  ) {}

  /** Every request from now on fails at once, and repeats stop (the run ended, maybe in an error). */
  close(): void {
    this.closed = true;
  }

  /**
   * Sends until an answer other than a 5xx comes back, and returns it; 4xx answers are the caller's to
   * judge. `path` is under /api/v1.
   */
  async send(method: "GET" | "POST", path: string, json?: unknown): Promise<HttpReply> {
    const deadline = Date.now() + GIVE_UP_MS;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error(`${method} ${path}: the run is over`);
      if (Date.now() > deadline) throw new Error(`${method} ${path}: no usable answer in ${GIVE_UP_MS} ms`);
      const sentAt = Date.now();
      let reply: HttpReply | null = null;
      try {
        const base = await this.apiUrl();
        this.figures.requests += 1;
        reply = await request(`${base}/api/v1${path}`, { method, json, timeoutMs: REQUEST_TIMEOUT_MS });
      } catch {
        this.figures.noAnswer += 1;
      }
      if (reply) {
        this.figures.byStatus[reply.status] = (this.figures.byStatus[reply.status] ?? 0) + 1;
        if (reply.status < 500) return reply;
        const answeredAt = Date.now();
        const code = ((reply.body.error as { code?: string } | undefined)?.code ?? String(reply.body.text ?? "")).slice(0, 80);
        this.figures.serverErrors.push({
          status: reply.status,
          code,
          method,
          path: path.replace(/exec-[a-z0-9]+/g, ":id"),
          sentAt,
          answeredAt,
          allowed: reply.status === 503 && code === "store_unavailable" && this.outages.covers(sentAt, answeredAt),
        });
      }
      await pause(50 * Math.min(attempt, 20));
    }
  }
}
