/**
 * Resolves the client commands' connection options ONCE, at the edge: `--server` over `ZART_SERVER`
 * over the default, `--token` over `ZART_TOKEN`. A server that is not an http(s) URL is a usage error.
 */
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
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ConfigError(`server must be a URL such as ${DEFAULT_SERVER}, got "${server}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`server must be an http:// or https:// URL, got "${server}"`);
  }
  const token = flags.token ?? (env.ZART_TOKEN || undefined);
  return Object.freeze({ server: server.replace(/\/+$/, ""), token: token || undefined, json: flags.json === true });
}
