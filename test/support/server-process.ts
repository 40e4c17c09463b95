/**
 * Runs a real `zart-server` process (from source, see cli-entry.ts) on a temporary SQLite file and hands back
 * its URL (parsed from the start-up banner). A WatchedProcess (child-process.ts): its output is kept, and
 * a test can wait for a line (its task code printing that something happened).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnv, WatchedProcess } from "./child-process.js";
import { cliArgs, compiledCliArgs } from "./cli-entry.js";

export interface ServerProcess {
  url: string;
  dir: string;
  dbPath: string;
  child: ChildProcess;
  /** Every stdout line so far (banner, JSON logs, lines printed by task code). */
  output: string[];
  /** Resolves with the first stdout line (past or future) that `matches`; rejects after `timeoutMs` or on exit. */
  waitForLine(matches: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a database directory (a second process on the same file). */
  dir?: string;
  logLevel?: string;
  /** Run the compiled server from dist/ (as installed) instead of the sources through tsx. */
  compiled?: boolean;
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "zart-server-test-"));
  const dbPath = join(dir, "zart.db");
  const entry = options.compiled ? compiledCliArgs("zart-server") : cliArgs("zart-server");
  const args = [...entry, "--port", "0", "--database", dbPath, "--log-level", options.logLevel ?? "warn"];
  const server = new WatchedProcess("zart-server", process.execPath, [...args, ...(options.args ?? [])], { env: childEnv(options.env) });
  const waitForLine = (matches: (line: string) => boolean, what: string, timeoutMs = 20_000) =>
    server.waitForLine(matches, what, timeoutMs);
  const exited = server.exited.then((exit) => exit.code);

  // Generous: a loaded 2-core machine can take tens of seconds to compile and start the server through tsx.
  const banner = await waitForLine((l) => l.includes(" listening on "), "its listening banner", 90_000).catch(async (error: unknown) => {
    await server.killHard();
    throw error;
  });
  const url = banner.slice(banner.indexOf("http")).trim();

  return {
    url,
    dir,
    dbPath,
    child: server.child,
    output: server.lines,
    waitForLine,
    exited,
    async stop(signal = "SIGTERM") {
      if (server.running) server.child.kill(signal);
      const code = await exited;
      // A failed shutdown is easier to read with the server's last words.
      if (code !== 0) console.error(`zart-server exited with ${code}; last output:\n${server.tail(30)}`);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** fetch with JSON helpers; returns status, headers and the parsed body (or the text when not JSON). */
export async function call(
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const headers = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(url, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Leave non-JSON bodies (metrics text) as text.
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Polls `check` until it returns a value (tests use it to wait for a status the engine reaches on its own). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
