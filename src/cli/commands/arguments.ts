/**
 * Parsers for command arguments (commander calls them; an `InvalidArgumentError` is a usage error,
 * exit 2) and the one place that reads a JSON value from `--data`, `--data-file` or stdin (`-`).
 */
import { Argument, type Command, InvalidArgumentError, Option } from "commander";
import { ConfigError } from "../config-error.js";
import type { Terminal } from "../terminal.js";

export function parseSeconds(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("expected a whole number of seconds (0 or more).");
  return Number(value.trim());
}

/** A parser for a whole number of at least `min` (and at most 2^53 - 1, what JSON and the API can carry). */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value.trim());
    if (!/^\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`expected a whole number of ${min} or more.`);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected at most ${Number.MAX_SAFE_INTEGER}.`);
    return n;
  };
}

/** The optional trailing `-` argument: the data comes from standard input. */
function stdinArgument(what: string): Argument {
  return new Argument("[-]", `read ${what} (JSON) from standard input`).argParser((value: string) => {
    if (value !== "-") throw new InvalidArgumentError(`unexpected "${value}" (only - is accepted here, for standard input).`);
    return value;
  });
}

export interface DataFlags {
  data?: string;
  dataFile?: string;
}

/** Adds `--data JSON | --data-file F` and the trailing `-` to a command: `what` it is, and its default. */
export function withDataOptions(command: Command, what: string, fallback: string): Command {
  return command
    .addArgument(stdinArgument(what))
    .addOption(new Option("--data <json>", `${what} as JSON (default: ${fallback})`))
    .addOption(new Option("--data-file <file>", `read ${what} from a JSON file`));
}

/**
 * The JSON value given by exactly one of `--data`, `--data-file` or `-`, or `undefined` when none
 * was given. More than one source, an unreadable file or text that is not JSON is a usage error.
 */
export async function readData(flags: DataFlags, dash: string | undefined, terminal: Terminal): Promise<unknown> {
  const given = [flags.data !== undefined && "--data", flags.dataFile !== undefined && "--data-file", dash === "-" && "-"].filter(Boolean);
  if (given.length > 1) throw new ConfigError(`give the data once: ${given.join(" and ")} were both given`);
  if (flags.data !== undefined) return parseJson(flags.data, "--data");
  if (flags.dataFile !== undefined) return parseJson(readFile(flags.dataFile, terminal), `--data-file ${flags.dataFile}`);
  if (dash === "-") return parseJson(await terminal.readStdin(), "standard input");
  return undefined;
}

function readFile(path: string, terminal: Terminal): string {
  try {
    return terminal.readFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read --data-file ${path}: ${(error as Error).message}`);
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}
