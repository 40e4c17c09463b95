/**
 * Resolves the client commands' connection options ONCE, at the edge: `--server` over `ZART_SERVER`
 * over the default, `--token` over `ZART_TOKEN`, `--request-timeout` over `ZART_REQUEST_TIMEOUT`. A
 * server, token or timeout the client would refuse (not an http(s) URL; a query, fragment or credentials
 * in it; a token that cannot go in a header; a duration without a unit) is a usage error.
 */
import { MAX_TIMEOUT_MS, serverUrlProblem, tokenProblem } from "../client/transport.js";
import { toMs } from "../core/duration.js";
import { ConfigError } from "./config-error.js";

export const DEFAULT_SERVER = "http://127.0.0.1:7700";

/** What commander hands over for the options every client command takes. */
export interface ClientFlags {
  server?: string;
  token?: string;
  json?: boolean;
  requestTimeout?: string;
}

export interface ClientSettings {
  /** Server root without trailing slashes. */
  readonly server: string;
  readonly token: string | undefined;
  /** Print the API's JSON exactly instead of human output. */
  readonly json: boolean;
  /** How long one request may take (a wait's own time on top); undefined: no limit of ours. */
  readonly requestTimeoutMs: number | undefined;
}

export function resolveClientSettings(flags: ClientFlags, env: Readonly<Record<string, string | undefined>>): ClientSettings {
  const server = (flags.server ?? (env.ZART_SERVER || undefined) ?? DEFAULT_SERVER).trim();
  const serverProblem = serverUrlProblem(server);
  if (serverProblem !== undefined) throw new ConfigError(`server ${serverProblem}`);
  const token = flags.token ?? (env.ZART_TOKEN || undefined);
  const badToken = token ? tokenProblem(token) : undefined;
  if (badToken !== undefined) throw new ConfigError(`token (--token or ZART_TOKEN) ${badToken}`);
  const timeout = flags.requestTimeout ?? (env.ZART_REQUEST_TIMEOUT || undefined);
  return Object.freeze({
    server: server.replace(/\/+$/, ""),
    token: token || undefined,
    json: flags.json === true,
    requestTimeoutMs: timeout === undefined ? undefined : requestTimeoutMs(timeout),
  });
}

function requestTimeoutMs(text: string): number {
  const what = "request timeout (--request-timeout or ZART_REQUEST_TIMEOUT)";
  let ms: number;
  try {
    ms = toMs(text);
  } catch (error) {
    throw new ConfigError(`${what}: ${(error as Error).message}`);
  }
  if (ms <= 0 || ms > MAX_TIMEOUT_MS) throw new ConfigError(`${what} must be above 0 and at most 23 days, got "${text}"`);
  return ms;
}
