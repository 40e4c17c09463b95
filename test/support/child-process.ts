/**
 * The one way tests run other processes: `runToEnd` for a command that finishes (its exit code and
 * output), `WatchedProcess` for one that keeps running (servers, workers, fixtures), whose stdout is read
 * line by line and kept so a test can wait for a line. Both pipes are drained all the time (a full pipe
 * would block the child's writes and stall it); every wait is bounded and fails with the process's last
 * output, so a stuck process fails the test instead of hanging it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** The repository root: the working directory of the commands the tests start from source. */
export const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * Settings a developer's or CI's environment might carry that would silently change what a child does:
 * the server's and the client's settings, colour and terminal detection.
 */
const CLEARED_ENV = [
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
  "ZART_SERVER",
  "ZART_TOKEN",
  "NO_COLOR",
  "FORCE_COLOR",
  "CI",
  "TERM",
];

/** This process's environment without {@link CLEARED_ENV}, then `env` on top. */
export function childEnv(env: Readonly<Record<string, string | undefined>> = {}): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...process.env };
  for (const key of CLEARED_ENV) delete merged[key];
  return { ...merged, ...env };
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

export interface SpawnSettings {
  cwd?: string;
  /** The child's whole environment (default: {@link childEnv}()). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end. `input` is written to stdin, which is then closed (at once without it). Past
 * `timeoutMs` the command is SIGKILLed and the call fails with its output.
 */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: SpawnSettings & { input?: string; timeoutMs?: number } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? childEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish in ${options.timeoutMs} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 300_000);
    timer.unref();
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Node running a TypeScript file of this repository (a fixture or a script) through tsx. */
export function tsArgs(file: string): string[] {
  return ["--import", "tsx", file];
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

export class WatchedProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far (the tests' processes print a few thousand short lines at most). */
  readonly lines: string[] = [];
  /** The last 200 stderr lines. */
  readonly stderr: string[] = [];
  /** Settles after the output pipes are drained ('close', not 'exit'), so `lines` is complete by then. */
  readonly exited: Promise<Exit>;
  private readonly watches = new Set<LineWatch>();
  private exit: Exit | null = null;

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    options: SpawnSettings & { stdin?: "ignore" | "pipe" } = {},
  ) {
    this.child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? childEnv(),
      stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) =>
      this.child.once("close", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
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

  /** `signal` and wait (bounded) for the exit; a process that hangs is SIGKILLed and the call fails. */
  async stop(timeoutMs = 20_000, signal: NodeJS.Signals = "SIGTERM"): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    try {
      return await withTimeout(this.exited, timeoutMs, () => `${this.label} to exit after ${signal}\n${this.tail()}`);
    } catch (error) {
      await this.killHard();
      throw error;
    }
  }
}
