/**
 * Builds the fastify application: body parsing, validation, auth, the 404/405 logic, one error
 * shape, one log line per response, and the routes. Everything the server needs arrives as
 * arguments (the engine API, resolved options, a logger); this module reads no environment.
 */
import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import type { Logger as PinoLogger } from "pino";
import { ZartError } from "../core/errors.js";
import type { ZartApi } from "../engine/api.js";
import { TokenChecker } from "./auth.js";
import type { DashboardAssets } from "./dashboard-assets.js";
import { errorBody, STATUS_BY_CODE } from "./error-map.js";
import { sendError } from "./error-reply.js";
import { registerJsonBody } from "./json-body.js";
import { LongPolls, parkedMs, parkingServer } from "./long-poll.js";
import { ServerMetrics } from "./metrics.js";
import { componentSchemas, openApiOptions } from "./openapi.js";
import { pathOf, RequestGate } from "./request-gate.js";
import { RouteTable } from "./route-table.js";
import { adminRoutes } from "./routes/admin.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { eventRoutes } from "./routes/events.js";
import { executionRoutes } from "./routes/executions.js";
import { operationRoutes } from "./routes/operations.js";
import { opsRoutes } from "./routes/ops.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { ErrorResponse } from "./schemas.js";
import { compileValidator } from "./validation.js";

/** While draining: how often connections that went idle are closed. */
const IDLE_REAP_MS = 50;

declare module "fastify" {
  interface FastifyRequest {
    /** Set by routes that create an execution, for the request's log line. */
    executionId: string | undefined;
  }
}

export interface ServerOptions {
  /** Accepted bearer tokens; empty means no authentication. */
  tokens: readonly string[];
  /** Largest accepted request body in bytes. */
  bodyLimit: number;
  /** Serve /metrics without a token even when tokens are configured. */
  metricsPublic: boolean;
  /** The web dashboard's files (see dashboard-assets.ts); without them `/` and `/ui/` are not served. */
  dashboard?: DashboardAssets | null;
  /** false: only /healthz, /readyz and /metrics (a worker process's HTTP). Default true. */
  api?: boolean;
}

export interface ZartServer {
  app: FastifyInstance;
  metrics: ServerMetrics;
  /** Answers open long-polls (202) and closes the HTTP server; resolves once every reply is sent. */
  close(): Promise<void>;
}

/** The execution a request is about: the route's `:id`, or the one a schedule created. */
function executionIdOf(request: FastifyRequest): string | undefined {
  const id = request.executionId ?? (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id.slice(0, 64) : undefined;
}

/**
 * Malformed HTTP never reaches fastify's router; answer it in the same error shape and hang up. A head
 * over Node's header limit (16 KB) is not malformed but too large, and says so (RFC 6585's 431).
 */
function answerMalformedHttp(error: Error, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const tooLarge = (error as NodeJS.ErrnoException).code === "HPE_HEADER_OVERFLOW";
  const code = tooLarge ? "headers_too_large" : "invalid_request";
  const body = JSON.stringify(errorBody(code, tooLarge ? "Request headers over 16 KB" : "Malformed HTTP request"));
  const status = STATUS_BY_CODE[code];
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

type ResponseRecorder = (request: FastifyRequest, reply: FastifyReply) => void;

function createApp(
  options: ServerOptions,
  logger: PinoLogger,
  gate: RequestGate,
  longPolls: LongPolls,
  record: ResponseRecorder,
): FastifyInstance {
  const bootId = randomBytes(3).toString("hex");
  let requestCount = 0;
  return Fastify({
    loggerInstance: logger,
    // One line per response is written by the onResponse hook instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // `request.log` is the server's logger itself, not a child per request: a child costs an object and
    // its bindings for as long as the request lives (10,000 open long-polls hold 10,000), and the lines
    // the server writes name `reqId` themselves. docs/decisions/028-server-baseline-memory.md.
    childLoggerFactory: (parent) => parent,
    bodyLimit: options.bodyLimit,
    // Long event names and ids reach the route (and its own 404) instead of a bare router error.
    routerOptions: { maxParamLength: 1024 },
    genReqId: () => `${bootId}-${(++requestCount).toString(36)}`,
    // While draining, requests on kept-alive sockets are still answered normally (the engine is up).
    return503OnClosing: false,
    // Answered before any hook runs: its log line and metric are recorded here, not by onResponse.
    frameworkErrors: (error, request, reply) => {
      gate.answerFrameworkError(error, request, reply);
      record(request, reply);
    },
    clientErrorHandler: answerMalformedHttp,
    serverFactory: parkingServer(longPolls),
  }) as unknown as FastifyInstance;
}

export async function buildServer(
  api: ZartApi,
  options: ServerOptions,
  logger: PinoLogger,
  metrics: ServerMetrics = new ServerMetrics(),
): Promise<ZartServer> {
  const routes = new RouteTable();
  const gate = new RequestGate(new TokenChecker(options.tokens), routes, options.metricsPublic);
  const longPolls = new LongPolls(api, (path, authorization) => gate.authorized(path, authorization));
  metrics.attach({ api, openLongPolls: () => longPolls.count });
  const record: ResponseRecorder = (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const ms = reply.elapsedTime + parkedMs(request.raw);
    metrics.observeRequest(route, request.method, reply.statusCode, ms / 1000);
    const line = { reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(ms * 100) / 100 };
    const executionId = executionIdOf(request);
    request.log.info(executionId === undefined ? line : { ...line, executionId }, "request");
  };
  const app = createApp(options, logger, gate, longPolls, record);

  app.decorateRequest("executionId", undefined);
  app.setValidatorCompiler(compileValidator);
  app.addSchema(ErrorResponse);
  registerJsonBody(app, options.bodyLimit);
  app.addHook("onRoute", (route) => routes.add(route.url, route.method));
  // Callback-style hooks: no promise per request on the hot path.
  app.addHook("onRequest", (request, reply, done) => {
    if (!gate.refuse(request, reply)) done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    record(request, reply);
    done();
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ZartError("not_found", `No route for ${request.method} ${pathOf(request.url).slice(0, 200)}`)),
  );

  if (options.api === false) {
    opsRoutes(app, api, metrics, false);
  } else {
    await app.register(swagger, openApiOptions({ auth: options.tokens.length > 0, metricsPublic: options.metricsPublic }));
    executionRoutes(app, { api, longPolls });
    eventRoutes(app, api);
    opsRoutes(app, api, metrics);
    operationRoutes(app, api);
    adminRoutes(app, api);
    if (api.schedules) scheduleRoutes(app, api.schedules);
    // After the routes, whose error schemas are made as they register; the document keeps those it uses.
    for (const schema of componentSchemas()) app.addSchema(schema);
    if (options.dashboard) dashboardRoutes(app, options.dashboard);
  }
  await app.ready();

  return {
    app,
    metrics,
    async close() {
      longPolls.drain();
      // Node's close() ends only the connections idle at that moment. One that goes idle later (its answer
      // written during the drain, or an early answer's request body read to its end) would stay open for
      // its keep-alive timeout, past the shutdown watchdog: such connections are closed as they go idle.
      const reaper = setInterval(() => app.server.closeIdleConnections(), IDLE_REAP_MS);
      try {
        await app.close();
      } finally {
        clearInterval(reaper);
      }
    },
  };
}
