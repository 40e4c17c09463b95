/**
 * Real `zart` processes for the multi-process tests: API servers (`zart serve`) and workers (`zart worker`)
 * started as a user would (from source, see cli-entry.ts), on one database. They are WatchedProcesses
 * (child-process.ts): the tests wait for their lines, e.g. `start …` to kill a worker mid-step.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { childEnv, WatchedProcess } from "./child-process.js";
import { cliArgs } from "./cli-entry.js";
import { testDatabaseUrl } from "./postgres.js";

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

/** `zart <args>` from source, with the settings of this process's environment cleared (child-process.ts). */
export class ZartProcess extends WatchedProcess {
  constructor(label: string, args: readonly string[], env: Readonly<Record<string, string>>) {
    super(label, process.execPath, [...cliArgs("zart"), ...args], { env: childEnv(env) });
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
