/**
 * Real `zart` processes for the multi-process PostgreSQL tests: API servers (`zart serve`) and workers
 * (`zart worker`) started as a user would (from source, see cli-entry.ts), on one Postgres schema. Their stdout is
 * read line by line and kept (the tests wait for `start …` lines to kill a worker mid-step); every wait is
 * bounded and fails with the process's last output, so a stuck process fails the test instead of hanging it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { cliArgs } from "./cli-entry.js";
import { testDatabaseUrl } from "./postgres.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Settings the parent's environment might carry that would silently change what the child runs. */
const INHERITED_ZART_ENV = [
  "ZART_API_TOKEN",
  "ZART_API_TOKENS",
  "ZART_CONFIG",
  "ZART_TASKS",
  "ZART_PORT",
  "ZART_HOST",
  "ZART_DATABASE_URL",
  "ZART_CONCURRENCY",
  "ZART_LOG_LEVEL",
  "ZART_EFFECTS_FILE",
];

/** The test database URL with Zart's own parameters (see src/store/open-store.ts). */
export function databaseUrl(schema: string, poolSize: number): string {
  const url = new URL(testDatabaseUrl());
  url.searchParams.set("schema", schema);
  url.searchParams.set("pool_size", String(poolSize));
  return url.toString();
}

/** Writes a JSON config file (`--config`) into `dir` and returns its path. */
export function writeConfig(dir: string, name: string, config: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Rejects after `ms` with a message naming what was awaited (the timer never keeps the process alive). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const describe = typeof what === "string" ? () => what : what;
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${describe()}`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface LineWatch {
  matches: (line: string) => boolean;
  needed: number;
  seen: number;
  resolve: (line: string) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ZartProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far (the tests' runs print a few thousand short lines at most). */
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly stderr: string[] = [];
  private readonly watches = new Set<LineWatch>();
  private exit: Exit | null = null;

  constructor(
    readonly label: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
  ) {
    const childEnv: Record<string, string | undefined> = { ...process.env };
    for (const key of INHERITED_ZART_ENV) delete childEnv[key];
    Object.assign(childEnv, env);
    this.child = spawn(process.execPath, [...cliArgs("zart"), ...args], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    // 'close', not 'exit': it comes after the output pipes are drained, so `lines` is complete by then.
    this.exited = new Promise((resolve) =>
      this.child.once("close", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    // Both pipes are drained all the time: a full pipe would block the child's writes and stall it.
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.onLine(line));
    createInterface({ input: this.child.stderr! }).on("line", (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 200) this.stderr.shift();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** The last lines of output, for failure messages. */
  tail(count = 40): string {
    return [`--- ${this.label} (pid ${this.pid}) stdout:`, ...this.lines.slice(-count), "--- stderr:", ...this.stderr.slice(-count)].join(
      "\n",
    );
  }

  private onLine(line: string): void {
    this.lines.push(line);
    for (const watch of this.watches) {
      if (!watch.matches(line)) continue;
      watch.seen += 1;
      if (watch.seen >= watch.needed) {
        this.watches.delete(watch);
        watch.resolve(line);
      }
    }
  }

  /**
   * Resolves with the `count`-th stdout line (counting from the process's start) that `matches`; rejects
   * when the process exits first or `timeoutMs` passes.
   */
  waitForLine(matches: (line: string) => boolean, what: string, timeoutMs: number, count = 1): Promise<string> {
    const past = this.lines.filter(matches);
    if (past.length >= count) return Promise.resolve(past[count - 1]!);
    let watch: LineWatch | undefined;
    const seen = new Promise<string>((resolve) => {
      watch = { matches, needed: count, seen: past.length, resolve };
      this.watches.add(watch);
    });
    const died = this.exited.then((exit): never => {
      throw new Error(`${this.label} exited (${exit.code ?? exit.signal}) before printing ${what}\n${this.tail()}`);
    });
    return withTimeout(Promise.race([seen, died]), timeoutMs, () => `${this.label} to print ${what}\n${this.tail()}`).finally(() => {
      if (watch) this.watches.delete(watch);
    });
  }

  /** SIGKILL: no shutdown code runs, exactly like a machine or container dying. */
  async killHard(): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill("SIGKILL");
    return this.exited;
  }

  /** SIGTERM and wait (bounded) for the graceful exit; a process that hangs is SIGKILLed and the call fails. */
  async stop(timeoutMs = 20_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill("SIGTERM");
    try {
      return await withTimeout(this.exited, timeoutMs, () => `${this.label} to exit after SIGTERM\n${this.tail()}`);
    } catch (error) {
      await this.killHard();
      throw error;
    }
  }
}

export interface ServerProcess extends ZartProcess {
  readonly url: string;
}

export interface StartOptions {
  database: string;
  /** Task modules (paths relative to the repository root). */
  tasks?: readonly string[];
  /** A `--config` file. */
  config?: string;
  env?: Readonly<Record<string, string>>;
  args?: readonly string[];
  /** Default `warn`: the tests read stdout, and info logs would only add noise. */
  logLevel?: string;
  label?: string;
}

/** Start-up includes tsx compiling the sources on a shared, busy machine: generous, but bounded. */
const START_TIMEOUT_MS = 45_000;

function commonArgs(options: StartOptions): string[] {
  const args = ["--database", options.database, "--log-level", options.logLevel ?? "warn"];
  for (const module of options.tasks ?? []) args.push("--tasks", module);
  if (options.config) args.push("--config", options.config);
  return [...args, ...(options.args ?? [])];
}

/** `zart serve --no-worker --port 0`: the HTTP API only. Resolves once it listens. */
export async function startApiServer(options: StartOptions): Promise<ServerProcess> {
  const started = new ZartProcess(
    options.label ?? "api server",
    ["serve", "--no-worker", "--port", "0", ...commonArgs(options)],
    options.env ?? {},
  );
  try {
    const banner = await started.waitForLine(
      (line) => line.startsWith("zart-server listening on "),
      "its listening banner",
      START_TIMEOUT_MS,
    );
    return Object.assign(started, { url: banner.slice("zart-server listening on ".length).trim() });
  } catch (error) {
    await started.killHard();
    throw error;
  }
}

/** `zart worker`: runs executions only. Resolves once its tasks are registered and it claims. */
export async function startWorker(options: StartOptions): Promise<ZartProcess> {
  const started = new ZartProcess(options.label ?? "worker", ["worker", ...commonArgs(options)], options.env ?? {});
  try {
    await started.waitForLine((line) => line.startsWith("zart worker running"), "its start-up line", START_TIMEOUT_MS);
    return started;
  } catch (error) {
    await started.killHard();
    throw error;
  }
}

/** SIGKILLs whatever is still running (for `finally` blocks). */
export async function killAll(processes: Iterable<ZartProcess | null | undefined>): Promise<void> {
  await Promise.all([...processes].map((p) => p?.killHard()));
}

export interface HttpReply {
  status: number;
  body: Record<string, unknown>;
}

/** One JSON request with a bounded time; the body is parsed (every Zart reply is a JSON object). */
export async function request(url: string, init: { method?: string; json?: unknown; timeoutMs?: number } = {}): Promise<HttpReply> {
  const response = await fetch(url, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers: init.json === undefined ? {} : { "content-type": "application/json" },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** Runs `work` for every item with at most `limit` in flight (the tests' "~20 requests in flight"). */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * The local TCP ports of a process's sockets (Linux /proc), i.e. `client_port` of its connections in
 * PostgreSQL's pg_stat_activity, which tells one process's backends apart from another's. Empty when
 * /proc is unavailable or the process talks to the database over a Unix socket.
 */
export function localTcpPorts(pid: number): number[] {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // The descriptor closed while we looked.
      }
    }
    const ports: number[] = [];
    for (const table of ["tcp", "tcp6"]) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
      } catch {
        continue;
      }
      for (const line of text.split("\n").slice(1)) {
        const fields = line.trim().split(/\s+/);
        // fields: sl, local_address (hex ip:hex port), rem_address, st, queues, tr, retrnsmt, uid, timeout, inode
        if (fields.length > 9 && inodes.has(fields[9]!)) ports.push(Number.parseInt(fields[1]!.split(":")[1]!, 16));
      }
    }
    return ports;
  } catch {
    return [];
  }
}
