/**
 * A tiny typed client for the Zart HTTP API over the global `fetch` (Node 18+, browsers, Deno, Bun).
 * No runtime dependencies.
 *
 * ```ts
 * import { ZartClient } from "zart/client";
 * const zart = new ZartClient({ baseUrl: "http://127.0.0.1:7700", token: process.env.ZART_TOKEN });
 * const { execution_id } = await zart.schedule("onboarding", { user_id: "u1", email: "u1@example.com" });
 * await zart.sendEvent(execution_id, "manager-approval", { approved: true, reviewer: "jane" });
 * const done = await zart.wait(execution_id, { timeoutSeconds: 30 });
 * ```
 * @module
 */

export type ExecutionStatus = "pending" | "running" | "waiting" | "completed" | "failed" | "cancelled";

export interface ScheduledExecution {
  execution_id: string;
  task: string;
  status: ExecutionStatus;
  created_at: string;
}

export interface ExecutionError {
  message: string;
  step: string | null;
  code?: string;
  name?: string;
}

export interface Execution<O = unknown> {
  execution_id: string;
  task: string;
  status: ExecutionStatus;
  steps_completed: number;
  current_step: string | null;
  waiting_for_event: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: O | null;
  error: ExecutionError | null;
  created_at: string;
  attempt: number;
  idempotency_key: string | null;
}

export interface ExecutionSummary {
  execution_id: string;
  task: string;
  status: ExecutionStatus;
  started_at: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface ListOptions {
  status?: ExecutionStatus;
  task?: string;
  limit?: number;
  offset?: number;
  order?: "asc" | "desc";
}

export interface ListPage {
  executions: ExecutionSummary[];
  total: number;
  limit: number;
  offset: number;
}

/** `done: true` (HTTP 200) once the execution is terminal; `done: false` (HTTP 202) when the wait timed out. */
export type WaitResult<O = unknown> =
  | { done: true; execution_id: string; status: ExecutionStatus; output: O | null; completed_at: string | null; error?: ExecutionError }
  | { done: false; execution_id: string; status: ExecutionStatus; message: string };

export interface ClientOptions {
  /** Server root, e.g. `http://127.0.0.1:7700` (the `/api/v1` prefix is added). */
  baseUrl: string;
  token?: string;
  /** Replaces the global fetch (tests, custom agents). */
  fetch?: typeof fetch;
}

/** The server answered with the contract's error shape (or a non-JSON failure). */
export class ZartHttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ZartHttpError";
    this.status = status;
    this.code = code;
  }
}

const MAX_WAIT_REQUEST_S = 240;

export class ZartClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly fetchFn: typeof fetch;

  constructor(options: ClientOptions) {
    this.base = `${options.baseUrl.replace(/\/+$/, "")}/api/v1`;
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.fetchFn = options.fetch ?? fetch;
  }

  schedule(task: string, data: Record<string, unknown>, options: { idempotencyKey?: string } = {}): Promise<ScheduledExecution> {
    const body: Record<string, unknown> = { task, data };
    if (options.idempotencyKey !== undefined) body.idempotency_key = options.idempotencyKey;
    return this.call("POST", "/executions", JSON.stringify(body));
  }

  get<O = unknown>(id: string): Promise<Execution<O>> {
    return this.call("GET", `/executions/${encodeURIComponent(id)}`);
  }

  list(options: ListOptions = {}): Promise<ListPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) if (value !== undefined) query.set(key, String(value));
    const text = query.toString();
    return this.call("GET", `/executions${text ? `?${text}` : ""}`);
  }

  /**
   * Long-polls until the execution ends or `timeoutSeconds` pass (server default 30 s). Long waits are
   * split into requests of at most 4 minutes, because fetch implementations give up on a response
   * whose headers take longer than about 5 minutes (undici's default `headersTimeout`).
   */
  async wait<O = unknown>(id: string, options: { timeoutSeconds?: number; signal?: AbortSignal } = {}): Promise<WaitResult<O>> {
    let remaining = options.timeoutSeconds;
    for (;;) {
      const chunk = remaining === undefined ? undefined : Math.min(remaining, MAX_WAIT_REQUEST_S);
      const result = await this.waitOnce<O>(id, chunk, options.signal);
      if (result.done || remaining === undefined || chunk === undefined || remaining - chunk <= 0) return result;
      remaining -= chunk;
    }
  }

  private async waitOnce<O>(id: string, timeoutSeconds: number | undefined, signal?: AbortSignal): Promise<WaitResult<O>> {
    const query = timeoutSeconds === undefined ? "" : `?timeout=${Math.max(0, Math.floor(timeoutSeconds))}`;
    const response = await this.send("GET", `/executions/${encodeURIComponent(id)}/wait${query}`, undefined, signal);
    const body = (await response.json()) as Record<string, unknown>;
    return { ...body, done: response.status === 200 } as WaitResult<O>;
  }

  cancel(id: string): Promise<{ execution_id: string; status: "cancelled" }> {
    return this.call("POST", `/executions/${encodeURIComponent(id)}/cancel`);
  }

  /** Delivers an event; `payload` may be any JSON value (undefined sends an empty body: the payload null). */
  sendEvent(id: string, eventName: string, payload?: unknown): Promise<{ status: "delivered"; execution_id: string; event_name: string }> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    return this.call("POST", `/events/${encodeURIComponent(id)}/${encodeURIComponent(eventName)}`, body);
  }

  stats(): Promise<Record<ExecutionStatus, number>> {
    return this.call("GET", "/stats");
  }

  private async call<T>(method: string, path: string, body?: string): Promise<T> {
    const response = await this.send(method, path, body);
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, body?: string, signal?: AbortSignal): Promise<Response> {
    const headers = body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" };
    const response = await this.fetchFn(`${this.base}${path}`, { method, headers, body, signal });
    if (response.ok) return response;
    const text = await response.text();
    let code = "http_error";
    let message = `HTTP ${response.status}`;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // Not the contract's error shape (a proxy in between, say): keep the status as the message.
    }
    throw new ZartHttpError(response.status, code, message);
  }
}
