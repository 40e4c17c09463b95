/**
 * The logger an Engine uses when it is given none: pino JSON lines on stderr at level info, so
 * `ctx.log` lines and the engine's warnings are visible by default while stdout stays the host
 * application's. Writes are synchronous: a library cannot count on its host flushing a buffer before
 * the process exits, and the engine itself logs only warnings and errors. One instance per process.
 */
import pino from "pino";
import type { Logger } from "../core/logger.js";

let shared: Logger | null = null;

export function defaultLogger(): Logger {
  shared ??= pino({ level: "info" }, pino.destination({ dest: 2, sync: true }));
  return shared;
}
