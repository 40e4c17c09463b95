/**
 * Resolves the server's options ONCE, at the edge: command-line flags, then environment, then the
 * JSON config file, then defaults. The result is a frozen object; nothing below the CLI reads
 * `process.env`. Bad values throw {@link ConfigError}, which the CLI reports with exit code 2.
 */
import { dirname, resolve as resolvePath } from "node:path";
import { toMs } from "../core/duration.js";
import { describeSchemaErrors } from "../core/schema.js";
import { Compile, Type } from "../core/typebox.js";
import { checkDatabaseUrl } from "../store/open-store.js";
import { idleInTransactionFor } from "../store/postgres/sql-context.js";
import { DEFAULT_MAX_QUEUED_INSERTS } from "../store/store-errors.js";
import { envUsedBy, type RunCommand } from "./command-env.js";
import { ConfigError } from "./config-error.js";

export { ConfigError };

/** What commander hands over (every field optional: absent means "not given on the command line"). */
export interface CliFlags {
  port?: string;
  host?: string;
  database?: string;
  tasks?: string[];
  config?: string;
  /** commander's `--no-worker` sets `worker: false`. */
  worker?: boolean;
  concurrency?: string;
  allowUnauthenticatedRemote?: boolean;
  logLevel?: string;
  /** `zart worker --http-port`: serve /healthz, /readyz and /metrics on this port. */
  httpPort?: string;
  /** `--retention <duration>`: prune finished executions older than this in the background. */
  retention?: string;
}

export interface ResolvedConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Absolute paths of task modules; empty means the bundled examples. */
  readonly tasks: readonly string[];
  readonly tokens: readonly string[];
  readonly bodyLimitBytes: number;
  readonly maxPayloadBytes: number;
  /** New executions that may wait to be stored before a POST answers `503 overloaded`. */
  readonly maxQueuedInserts: number;
  /** PostgreSQL: how long a transaction of this process may sit idle (its process stalled), from the lease. */
  readonly idleInTransactionMs: number;
  readonly worker: {
    readonly enabled: boolean;
    readonly concurrency: number;
    readonly leaseMs: number;
    readonly shutdownGraceMs: number;
    /** `null`: the engine's default for the store (Postgres 5 s, SQLite 1 s). */
    readonly safetyPollMs: number | null;
    /** `zart worker` only: port of its /healthz, /readyz and /metrics (bound to `host`); null: no HTTP. */
    readonly httpPort: number | null;
  };
  readonly allowNonLoopback: boolean;
  readonly metricsPublic: boolean;
  readonly logLevel: string;
  readonly configFile: string | null;
  /** Retention (docs/retention.md): finished executions older than this are pruned in the background; null: off. */
  readonly retentionMs: number | null;
}

const MAX_CONCURRENCY = 10_000;
const Duration = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })]);
const FileConfig = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    database: Type.Optional(Type.String({ minLength: 1 })),
    tasks: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    tokens: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    limits: Type.Optional(
      Type.Object(
        {
          bodyBytes: Type.Optional(Type.Integer({ minimum: 1 })),
          maxPayloadBytes: Type.Optional(Type.Integer({ minimum: 1 })),
          queuedInserts: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    worker: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CONCURRENCY })),
          leaseTime: Type.Optional(Duration),
          shutdownGrace: Type.Optional(Duration),
          safetyPoll: Type.Optional(Duration),
          httpPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
        },
        { additionalProperties: false },
      ),
    ),
    allowNonLoopback: Type.Optional(Type.Boolean()),
    metricsPublic: Type.Optional(Type.Boolean()),
    logLevel: Type.Optional(Type.String()),
    retention: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
type FileConfig = Type.Static<typeof FileConfig>;
const checkFileConfig = Compile(FileConfig);

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const MIB = 1024 * 1024;

export interface ResolveInput {
  flags: CliFlags;
  /** Default "serve". */
  command?: RunCommand;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Reads the config file (injected so tests need no files). */
  readFile: (path: string) => string;
}

function parseInteger(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(`${what} must be an integer, got "${text}"`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new ConfigError(`${what} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function parseDuration(value: number | string, what: string): number {
  try {
    const ms = toMs(value);
    if (ms <= 0) throw new RangeError("must be positive");
    return ms;
  } catch (error) {
    throw new ConfigError(`${what}: ${(error as Error).message}`);
  }
}

function loadFile(path: string, readFile: (path: string) => string): FileConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFile(path));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (!checkFileConfig.Check(parsed)) {
    const detail = describeSchemaErrors(checkFileConfig.Errors(parsed), "config", { schema: FileConfig });
    throw new ConfigError(
      `invalid config file ${path}: ${detail.replace(/must not have additional properties|must not have unevaluated properties/, "has an unknown key")}`,
    );
  }
  return parsed;
}

function splitList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/**
 * A bearer token travels in a header as it is and the server reads it up to the first blank, so only
 * printable ASCII without spaces can ever match. Any other token is refused at start-up (it names the
 * token's position, never the token).
 */
function checkTokens(tokens: string[], source: string): string[] {
  tokens.forEach((token, index) => {
    if (!/^[\x21-\x7e]+$/.test(token))
      throw new ConfigError(
        `${source}: token ${index + 1} has a character a bearer token cannot carry (only printable ASCII without spaces), so no request could ever send it`,
      );
  });
  return tokens;
}

/** `--host`, `ZART_HOST` or `host`: an address as Node's listen takes it (an IPv6 one without its URL brackets). */
function checkHost(text: string): string {
  const host = text.trim().replace(/^\[(.*)\]$/, "$1");
  // An empty host would make Node listen on every interface.
  if (host === "") throw new ConfigError(`host must not be empty (use 0.0.0.0 or :: to listen on every interface)`);
  return host;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** For commands that listen: no token and a non-loopback address needs explicit permission. */
export function assertSafeBind(config: ResolvedConfig): void {
  if (config.tokens.length === 0 && !isLoopback(config.host) && !config.allowNonLoopback) {
    throw new ConfigError(
      `refusing to listen on ${config.host} without authentication: configure a token (ZART_API_TOKEN, or "tokens" in the config file) or pass --allow-unauthenticated-remote`,
    );
  }
}

/**
 * The database URL's scheme, settings and schema name, checked before any command opens it, so a bad one
 * is a configuration error like any other bad value. Async: the PostgreSQL schema-name rule is loaded
 * (with the driver) only for a postgres:// URL.
 */
export async function assertDatabaseUrl(config: ResolvedConfig): Promise<void> {
  try {
    await checkDatabaseUrl(config.database);
  } catch (error) {
    throw new ConfigError(`database: ${(error as Error).message}`);
  }
}

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const { flags, cwd } = input;
  const env = envUsedBy(input.command ?? "serve", input.env);
  const configPath = flags.config ?? env.ZART_CONFIG;
  const configFile = configPath ? resolvePath(cwd, configPath) : null;
  const file: FileConfig = configFile ? loadFile(configFile, input.readFile) : {};
  const fileDir = configFile ? dirname(configFile) : cwd;

  const portText = flags.port ?? env.ZART_PORT;
  const port = portText !== undefined ? parseInteger(portText, "port", 0, 65535) : (file.port ?? 7700);
  const host = checkHost(flags.host ?? env.ZART_HOST ?? file.host ?? "127.0.0.1");
  const database = flags.database ?? env.ZART_DATABASE_URL ?? file.database ?? "./zart.db";
  if (database.trim() === "") throw new ConfigError("database must not be empty (a path, sqlite:<path> or postgres://…)");

  const taskFlags = flags.tasks && flags.tasks.length > 0 ? flags.tasks : undefined;
  const taskEnv = splitList(env.ZART_TASKS);
  const tasks = taskFlags
    ? taskFlags.map((t) => resolvePath(cwd, t))
    : taskEnv
      ? taskEnv.map((t) => resolvePath(cwd, t))
      : (file.tasks ?? []).map((t) => resolvePath(fileDir, t));

  // ZART_API_TOKEN is one token, taken whole (a comma in it is part of it); ZART_API_TOKENS is a list.
  const singleToken = env.ZART_API_TOKEN?.trim() || undefined;
  const listTokens = splitList(env.ZART_API_TOKENS);
  const tokens = listTokens
    ? checkTokens(listTokens, "ZART_API_TOKENS")
    : singleToken
      ? checkTokens([singleToken], "ZART_API_TOKEN")
      : checkTokens(file.tokens ?? [], "tokens in the config file");

  const concurrencyText = flags.concurrency ?? env.ZART_CONCURRENCY;
  const concurrency =
    concurrencyText !== undefined ? parseInteger(concurrencyText, "concurrency", 1, MAX_CONCURRENCY) : (file.worker?.concurrency ?? 50);
  const enabled = flags.worker === false ? false : (file.worker?.enabled ?? true);

  const logLevel = (flags.logLevel ?? env.ZART_LOG_LEVEL ?? file.logLevel ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`log level must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);

  const allowNonLoopback = flags.allowUnauthenticatedRemote === true || file.allowNonLoopback === true;
  const httpPortText = flags.httpPort ?? env.ZART_WORKER_HTTP_PORT;
  const httpPort = httpPortText !== undefined ? parseInteger(httpPortText, "worker HTTP port", 0, 65535) : (file.worker?.httpPort ?? null);

  const leaseMs = file.worker?.leaseTime !== undefined ? parseDuration(file.worker.leaseTime, "worker.leaseTime") : 30_000;

  const retentionValue = flags.retention ?? env.ZART_RETENTION ?? file.retention;
  const retentionMs = retentionValue === undefined ? null : parseDuration(retentionValue, "retention");

  return Object.freeze({
    host,
    port,
    database,
    tasks: Object.freeze(tasks),
    tokens: Object.freeze(tokens),
    bodyLimitBytes: file.limits?.bodyBytes ?? MIB,
    maxPayloadBytes: file.limits?.maxPayloadBytes ?? MIB,
    maxQueuedInserts: file.limits?.queuedInserts ?? DEFAULT_MAX_QUEUED_INSERTS,
    idleInTransactionMs: idleInTransactionFor(leaseMs),
    worker: Object.freeze({
      enabled,
      concurrency,
      leaseMs,
      shutdownGraceMs: file.worker?.shutdownGrace !== undefined ? parseDuration(file.worker.shutdownGrace, "worker.shutdownGrace") : 10_000,
      safetyPollMs: file.worker?.safetyPoll !== undefined ? parseDuration(file.worker.safetyPoll, "worker.safetyPoll") : null,
      httpPort,
    }),
    allowNonLoopback,
    metricsPublic: file.metricsPublic ?? false,
    logLevel,
    configFile,
    retentionMs,
  });
}
