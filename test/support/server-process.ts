/**
 * Runs a real `zart-server` process (from source, see cli-entry.ts) on a temporary SQLite file and hands back
 * its URL (parsed from the start-up banner). Output is drained continuously so a chatty log can
 * never block the server on a full pipe; the last lines are kept for failure messages.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliArgs } from "./cli-entry.js";

const ROOT = new URL("../..", import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  dir: string;
  dbPath: string;
  child: ChildProcess;
  /** Every stdout line so far (banner, JSON logs). */
  output: string[];
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
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const keep = (into: string[]) => (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line) into.push(line);
    if (into.length > 5000) into.splice(0, into.length - 5000);
  };
  child.stdout?.on("data", keep(output));
  child.stderr?.on("data", keep(errors));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${[...output, ...errors].join("\n")}`)), 20_000);
    const check = () => {
      const line = output.find((l) => l.includes(" listening on "));
      if (line) {
        clearTimeout(timer);
        child.stdout?.off("data", check);
        resolve(line.slice(line.indexOf("http")).trim());
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${[...output, ...errors].join("\n")}`));
    });
  });

  return {
    url,
    dir,
    dbPath,
    child,
    output,
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
