/**
 * Runs the `zart` client commands as a user would: `node bin/zart.js …` with pipes (no TTY), or under
 * a pseudo-terminal through util-linux `script` so stdout and stderr are TTYs. The environment is
 * cleaned of the settings that would change what the command does (child-process.ts, childEnv).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { childEnv, ROOT, runToEnd } from "./child-process.js";

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (stdin is closed at once without it). */
  input?: string;
}

export async function runZart(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runToEnd(process.execPath, ["bin/zart.js", ...args], {
    env: childEnv(options.env),
    input: options.input,
  });
  return { code, out: stdout, err: stderr };
}

/** A command running under a pseudo-terminal; `output` is everything the terminal showed so far. */
export interface PtyRun {
  child: ChildProcess;
  output(): string;
  /** Resolves once the terminal output matches, rejects when the command ends first or `ms` pass. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** The command's exit code (`script -e` passes it on). */
  exited: Promise<number | null>;
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

export function runZartInPty(args: readonly string[], options: { env?: Record<string, string> } = {}): PtyRun {
  const command = [process.execPath, "bin/zart.js", ...args].map(shellQuote).join(" ");
  // -q no banner, -f flush at once, -e exit with the command's code, -c the command; the typescript file is discarded.
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: ROOT,
    env: childEnv({ TERM: "xterm-256color", ...options.env }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
    for (const listener of listeners) listener();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, ms = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`terminal output never matched ${pattern}:\n${JSON.stringify(output.slice(-2000))}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exited.then(() => {
          if (!listeners.has(check)) return;
          done();
          if (pattern.test(output)) resolve();
          else reject(new Error(`the command ended before its output matched ${pattern}:\n${JSON.stringify(output.slice(-2000))}`));
        });
        listeners.add(check);
        check();
      });
    },
  };
}
