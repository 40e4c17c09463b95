/**
 * Open long-polls. Each one is an {@link OpenPoll}, whose wait ends early when its client disconnects or
 * when the server drains, so the wait route answers 202 at once. Ten thousand may be open at once, so each
 * holds as little as it can. Why: docs/decisions/024-long-poll-memory.md and 031-parked-poll-callback.md.
 *
 * A plain long-poll (`GET /api/v1/executions/<id>/wait[?timeout=<seconds>]`, authorised) is moreover
 * parked before fastify sees it: it waits holding only Node's request and response, and enters fastify
 * once the wait is over, where the wait route answers from what the wait brought. Anything else, and any
 * request fastify must refuse, goes to fastify at once, so every answer and error still comes from the
 * route. Why: docs/decisions/028-server-baseline-memory.md.
 */
import {
  createServer,
  type ServerOptions as HttpServerOptions,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import type { FastifyServerOptions } from "fastify";
import type { ExecutionRecord } from "../core/types.js";
import type { ZartApi } from "../engine/api.js";
import { isExecutionId } from "../engine/execution-id.js";
import { WAIT_TIMEOUT_DEFAULT_S, WAIT_TIMEOUT_MAX_S } from "./schemas.js";

/** The only long-poll URLs parked: any other spelling (more parameters, `timeout=0`, `timeout=030`) goes to fastify. */
const PLAIN_WAIT = /^\/api\/v1\/executions\/([^/?#]+)\/wait(?:\?timeout=([1-9]\d{0,3}))?$/;
const PARKED = Symbol("zart.parkedWait");

/** What a parked wait brought, carried on the raw request into the wait route. */
interface ParkedWait {
  result: Promise<ExecutionRecord>;
  /** How long it was parked, for the request's log line and duration metric. */
  ms: number;
}

type ParkedRequest = IncomingMessage & { [PARKED]?: ParkedWait };

/** The wait a parked request brought into the route, if it was parked. */
export function parkedWait(request: IncomingMessage): Promise<ExecutionRecord> | undefined {
  return (request as ParkedRequest)[PARKED]?.result;
}

/** Milliseconds the request spent parked before fastify saw it (0 if it was not). */
export function parkedMs(request: IncomingMessage): number {
  return (request as ParkedRequest)[PARKED]?.ms ?? 0;
}

/** The first `Authorization` header, as Node's parsed headers would give it. */
function authorizationOf(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 13 && name.toLowerCase() === "authorization") return rawHeaders[i + 1];
  }
  return undefined;
}

const ignore = (): void => {};

/**
 * An open long-poll: listed for draining, and its wait ended early when its client goes away. Ten thousand
 * may be open at once: its listener is an own property and its wait the engine's callback form, so it
 * holds no promise, AbortController or suspended function of its own.
 */
class OpenPoll {
  /** Ends the engine's wait early; set once the wait is registered. */
  stop: () => void = ignore;

  constructor(
    private readonly open: Set<OpenPoll>,
    protected readonly response: ServerResponse,
  ) {
    open.add(this);
    // Plain listeners rather than `once`, whose wrapper is one more closure. The server keeps a connection
    // open after its client's FIN (parkingServer), so a client that leaves shows first as the socket's end.
    response.on("close", this.abort);
    response.socket?.on("end", this.abort);
  }

  /** The client went away, or the server drains. */
  readonly abort = (): void => this.stop();

  /**
   * The server drains: the answer closes its connection. Written after the server stopped listening and
   * closed the connections idle then, a kept-alive one would stay open and hold the server's close.
   */
  lastOnConnection(): void {
    this.response.shouldKeepAlive = false;
  }

  /** The wait is over: no longer open. */
  closed(): void {
    this.open.delete(this);
    this.response.removeListener("close", this.abort);
    this.response.socket?.removeListener("end", this.abort);
  }
}

/** A parked long-poll: also what its request needs to enter fastify when the wait is over. */
class ParkedPoll extends OpenPoll {
  private readonly parkedAt = performance.now();

  constructor(
    open: Set<OpenPoll>,
    private readonly request: IncomingMessage,
    response: ServerResponse,
    private readonly enter: RequestListener,
  ) {
    super(open, response);
  }

  /** The engine's `watchTerminal` callback. */
  readonly done = (result: Promise<ExecutionRecord>): void => {
    this.closed();
    if (this.response.destroyed) {
      result.catch(ignore);
      return;
    }
    (this.request as ParkedRequest)[PARKED] = { result, ms: performance.now() - this.parkedAt };
    this.enter(this.request, this.response);
  };
}

export class LongPolls {
  private readonly open = new Set<OpenPoll>();
  private draining = false;

  /** `authorized(path, authorizationHeader)`: whether the request passes the server's token check. */
  constructor(
    private readonly api: ZartApi,
    private readonly authorized: (path: string, authorization: string | undefined) => boolean,
  ) {}

  get count(): number {
    return this.open.size;
  }

  /**
   * Waits until the execution is terminal, `timeoutMs` passes, the client goes away or the server
   * drains; resolves with the execution's state at that moment.
   */
  wait(id: string, timeoutMs: number, response: ServerResponse): Promise<ExecutionRecord> {
    if (this.draining || timeoutMs === 0) return this.api.waitForTerminal(id, 0);
    return new Promise((resolve) => {
      const poll = new OpenPoll(this.open, response);
      poll.stop = this.api.watchTerminal(id, timeoutMs, (result) => {
        poll.closed();
        resolve(result);
      });
    });
  }

  /**
   * Parks a plain, authorised long-poll and returns true; returns false for any other request. A parked
   * request enters fastify (`enter`) when its wait ends, unless its client has gone by then.
   */
  park(request: IncomingMessage, response: ServerResponse, enter: RequestListener): boolean {
    if (this.draining || request.method !== "GET") return false;
    const url = request.url ?? "";
    const match = PLAIN_WAIT.exec(url);
    if (match === null || !isExecutionId(match[1] as string)) return false;
    // From the raw headers: `request.headers` would build the parsed headers object, held for the whole wait.
    if (!this.authorized(url.slice(0, url.indexOf("/wait") + 5), authorizationOf(request.rawHeaders))) return false;
    const seconds = match[2] === undefined ? WAIT_TIMEOUT_DEFAULT_S : Math.min(Number(match[2]), WAIT_TIMEOUT_MAX_S);
    const poll = new ParkedPoll(this.open, request, response, enter);
    poll.stop = this.api.watchTerminal(match[1] as string, seconds * 1000, poll.done);
    return true;
  }

  /** Answers every open long-poll now (with its current state) and makes new ones return at once. */
  drain(): void {
    this.draining = true;
    for (const poll of this.open) {
      poll.lastOnConnection();
      poll.abort();
    }
  }
}

interface HttpSettings {
  http?: HttpServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * fastify's `serverFactory`: the HTTP server fastify would make (its timeouts applied the same way), whose
 * requests pass {@link LongPolls.park} before fastify's handler.
 */
export function parkingServer(longPolls: LongPolls): NonNullable<FastifyServerOptions["serverFactory"]> {
  return (handler, fastifyOptions) => {
    // fastify hands over its options with its defaults filled in.
    const options = fastifyOptions as HttpSettings;
    const server: Server = createServer(options.http ?? {}, (request, response) => {
      if (!longPolls.park(request, response, handler)) handler(request, response);
    });
    // A client may half-close its connection once its request is sent (its FIN), and still read the answer.
    // By default Node's server then aborts the request and ends the connection: an answer that waits for
    // the store (every one on PostgreSQL) would never be sent, and a POST's execution would be created
    // without its id reaching the client. Kept open, the connection ends once the answer is written. A
    // long-poll takes the FIN as its client leaving (OpenPoll). The property is Node's own, not in its typings.
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) {
      server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    }
    return server;
  };
}
