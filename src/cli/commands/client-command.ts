/**
 * Declares a client command: adds the connection options every one takes, resolves them at the edge,
 * runs the body with a {@link ClientContext}, and turns the outcome into the exit code — the body's
 * own (0 unless it says otherwise), 1 when the server answered with an error or could not be reached
 * (the API's code and message on stderr, and under `--json` its error body on stdout), 2 for usage
 * errors found after parsing (unreadable `--data-file`, JSON that does not parse, a bad `--server`).
 */
import type { Command } from "commander";
import { ZartConnectionError, ZartHttpError } from "../../client/index.js";
import { REQUEST_TIMEOUT } from "../../client/transport.js";
import { type ClientFlags, DEFAULT_SERVER, resolveClientSettings } from "../client-settings.js";
import { ConfigError } from "../config-error.js";
import { printable } from "../format/printable.js";
import { formatDuration } from "../format/time.js";
import { processTerminal, type Terminal } from "../terminal.js";
import { type ClientContext, createClientContext } from "./client-context.js";

/**
 * A command body: its positional arguments (as commander parsed them, in order; an optional one not
 * given is `undefined`), then its own flags; resolves with the exit code (undefined: 0).
 */
export type ClientBody<A extends unknown[], F> = (ctx: ClientContext, args: A, flags: F) => Promise<number | undefined>;

export function withConnectionOptions(command: Command): Command {
  return command
    .option("--server <url>", `Zart server to talk to (env ZART_SERVER; default ${DEFAULT_SERVER})`)
    .option("--token <token>", "bearer token (env ZART_TOKEN)")
    .option("--json", "print the API's JSON response exactly as received")
    .option("--request-timeout <duration>", "give up on a request after this long, e.g. 30s (env ZART_REQUEST_TIMEOUT; default none)");
}

/** The action for commander: `.action(clientAction(async (ctx, [id], flags) => …))`. */
export function clientAction<A extends unknown[], F extends object = object>(body: ClientBody<A, F>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params.at(-1) as Command;
    const flags = command.opts() as F & ClientFlags;
    process.exitCode = await runClientCommand(flags, command.processedArgs as A, body, processTerminal());
  };
}

async function runClientCommand<A extends unknown[], F>(
  flags: F & ClientFlags,
  args: A,
  body: ClientBody<A, F>,
  terminal: Terminal,
): Promise<number> {
  let ctx: ClientContext | undefined;
  try {
    ctx = createClientContext(resolveClientSettings(flags, process.env), terminal);
    return (await body(ctx, args, flags)) ?? 0;
  } catch (error) {
    return reportFailure(error, terminal, ctx);
  }
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
};

/** Failures after the connection was made: something answers there, so "is it running?" would mislead. */
const CUT_SHORT: Record<string, string> = {
  UND_ERR_HEADERS_TIMEOUT: "accepted the connection but sent no answer within 5 minutes",
  UND_ERR_BODY_TIMEOUT: "stopped sending its answer part way",
  UND_ERR_SOCKET: "closed the connection before answering in full",
};

/** Errors go to stderr on one line, made printable: a server's message may hold anything. */
function reportFailure(error: unknown, terminal: Terminal, ctx: ClientContext | undefined): number {
  const say = (text: string) => terminal.err(`error: ${printable(text)}`);
  if (error instanceof ConfigError) {
    say(error.message);
    return 2;
  }
  if (error instanceof ZartHttpError) {
    const body = ctx?.lastBody();
    if (ctx?.settings.json && body) terminal.out(body);
    say(`${error.code}: ${error.message}`);
    return 1;
  }
  if (error instanceof ZartConnectionError) {
    if (error.reason === REQUEST_TIMEOUT) {
      say(
        `no complete answer from the server at ${error.url} within ${formatDuration(ctx?.settings.requestTimeoutMs ?? 0)} (--request-timeout).`,
      );
      return 1;
    }
    const cut = error.reason ? CUT_SHORT[error.reason] : undefined;
    if (cut) {
      say(`the server at ${error.url} ${cut} (${error.reason}).`);
      return 1;
    }
    const reason = error.reason ? (REASONS[error.reason] ?? error.reason) : "no answer";
    say(`cannot reach the Zart server at ${error.url} (${reason}). Is zart-server running there? Set --server or ZART_SERVER.`);
    return 1;
  }
  say((error as Error).message ?? String(error));
  return 1;
}
