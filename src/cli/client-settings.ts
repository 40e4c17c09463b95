/**
 * Resolves the client commands' connection options ONCE, at the edge: `--server` over `ZART_SERVER`
 * over the default, `--token` over `ZART_TOKEN`. A server or token the client would refuse (not an
 * http(s) URL; a query, fragment or credentials in it; a token that cannot go in a header) is a usage error.
 */
import { serverUrlProblem, tokenProblem } from "../client/transport.js";
import { ConfigError } from "./config-error.js";

export const DEFAULT_SERVER = "http://127.0.0.1:7700";

/** What commander hands over for the options every client command takes. */
export interface ClientFlags {
  server?: string;
  token?: string;
  json?: boolean;
}

export interface ClientSettings {
  /** Server root without trailing slashes. */
  readonly server: string;
  readonly token: string | undefined;
  /** Print the API's JSON exactly instead of human output. */
  readonly json: boolean;
}

export function resolveClientSettings(flags: ClientFlags, env: Readonly<Record<string, string | undefined>>): ClientSettings {
  const server = (flags.server ?? (env.ZART_SERVER || undefined) ?? DEFAULT_SERVER).trim();
  const serverProblem = serverUrlProblem(server);
  if (serverProblem !== undefined) throw new ConfigError(`server ${serverProblem}`);
  const token = flags.token ?? (env.ZART_TOKEN || undefined);
  const badToken = token ? tokenProblem(token) : undefined;
  if (badToken !== undefined) throw new ConfigError(`token (--token or ZART_TOKEN) ${badToken}`);
  return Object.freeze({ server: server.replace(/\/+$/, ""), token: token || undefined, json: flags.json === true });
}
