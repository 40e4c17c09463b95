/**
 * Runs a real `zart-server` process (from source, see cli-entry.ts) on a temporary SQLite file and hands back
 * its URL (parsed from the start-up banner). Output is drained continuously so a chatty log can
 * never block the server on a full pipe; the last lines are kept for failure messages, and a test can
 * wait for a line (its task code printing that something happened).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { cliArgs } from "./cli-entry.js";

const ROOT = new URL("../..", import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  dir: string;
  dbPath: string;
  child: ChildProcess;
  /** Every stdout line so far (banner, JSON logs, lines printed by task code); the last 5,000. */
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
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "zart-server-test-"));
  const dbPath = join(dir, "zart.db");
  const args = [
    ...cliArgs("zart-server"),
    "--port",
    "0",
    "--database",
    dbPath,
    "--log-level",
    options.logLevel ?? "warn",
    ...(options.args ?? []),
  ];
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const key of ["ZART_API_TOKEN", "ZART_API_TOKENS", "ZART_CONFIG", "ZART_TASKS", "ZART_PORT", "ZART_HOST", "ZART_DATABASE_URL"]) {
    if (!options.env || !(key in options.env)) delete env[key];
  }
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const errors: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const keep = (into: string[], line: string) => {
    if (!line) return;
    into.push(line);
    if (into.length > 5000) into.splice(0, into.length - 5000);
  };
  createInterface({ input: child.stdout! }).on("line", (line) => {
    keep(output, line);
    for (const watch of [...watchers]) watch(line);
  });
  createInterface({ input: child.stderr! }).on("line", (line) => keep(errors, line));

  const waitForLine = (matches: (line: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> => {
    const past = output.find(matches);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise<string>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        watchers.delete(watch);
      };
      const watch = (line: string) => {
        if (!matches(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${[...output.slice(-30), ...errors.slice(-30)].join("\n")}`),
        );
      }, timeoutMs);
      watchers.add(watch);
      void exited.then((code) => {
        if (!watchers.has(watch)) return;
        done();
        reject(new Error(`server exited with ${code} before printing ${what}:\n${[...output, ...errors].slice(-60).join("\n")}`));
      });
    });
  };

  // Generous: a loaded 2-core machine can take tens of seconds to compile and start the server through tsx.
  // A server that does not start in time is killed, so a failed start leaves no process behind.
  const banner = await waitForLine((l) => l.includes(" listening on "), "its listening banner", 90_000).catch((error: unknown) => {
    child.kill("SIGKILL");
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const url = banner.slice(banner.indexOf("http")).trim();

  return {
    url,
    dir,
    dbPath,
    child,
    output,
    waitForLine,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      // A failed shutdown is easier to read with the server's last words.
      if (code !== 0)
        console.error(`zart-server exited with ${code}; last output:\n${[...output.slice(-30), ...errors.slice(-30)].join("\n")}`);
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
