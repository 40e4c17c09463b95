/**
 * What the client commands know about where they run, decided once from the process: colour only
 * when stdout is a TTY and NO_COLOR is unset; a spinner only when stderr is a TTY (and, as the
 * spinner library decides too, not TERM=dumb or under CI, where a TTY is a log capture).
 */
import { readFileSync } from "node:fs";

export interface Terminal {
  /** Writes a line (or lines) to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** The stream a live spinner draws on. */
  readonly spinnerStream: NodeJS.WriteStream;
  readonly colors: boolean;
  readonly spinner: boolean;
  now(): number;
  readStdin(): Promise<string>;
  readFile(path: string): string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function wantsColor(isTTY: boolean | undefined, env: Env): boolean {
  return isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

export function wantsSpinner(isTTY: boolean | undefined, env: Env): boolean {
  return isTTY === true && env.TERM !== "dumb" && !("CI" in env);
}

/**
 * Writes to stdout until its reader goes away (`zart list --json | head -c 20`): EPIPE then drops the
 * rest quietly, as other command-line tools do, and the command keeps its own exit code.
 */
function stdoutWriter(): (text: string) => void {
  let readerGone = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    readerGone = true;
  });
  return (text) => {
    if (!readerGone) process.stdout.write(`${text}\n`);
  };
}

export function processTerminal(): Terminal {
  return {
    out: stdoutWriter(),
    err: (text) => process.stderr.write(`${text}\n`),
    spinnerStream: process.stderr,
    colors: wantsColor(process.stdout.isTTY, process.env),
    spinner: wantsSpinner(process.stderr.isTTY, process.env),
    now: () => Date.now(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    readFile: (path) => readFileSync(path, "utf8"),
  };
}
