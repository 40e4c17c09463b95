/**
 * A running server or worker outlives mistakes in the task code it hosts: a promise rejected with nobody
 * listening, or an exception thrown from a callback outside any step (a timer, an event emitter), is
 * logged with its stack and the process goes on, so neither it nor any other execution on it is killed.
 * (Node's default would end the process.) Errors inside steps never get here: the step fails as usual.
 * Attributing such an error to an execution would take async context tracking on every promise, which
 * the run path never uses (docs/decisions/015-no-async-context-tracking.md); the stack names the task's
 * code instead.
 */
import type { Logger } from "../core/logger.js";

export function guardProcess(logger: Logger): void {
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection (task code?); the process goes on");
  });
  process.on("uncaughtException", (error, origin) => {
    logger.error({ err: error, origin }, "uncaught exception (task code?); the process goes on");
  });
}
