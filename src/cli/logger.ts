/**
 * The process logger: pino JSON lines on stdout through an asynchronous destination (a
 * synchronous write per request line would cost throughput); `flush()` runs before exit. The
 * Authorization header is redacted wherever a request's headers might be logged.
 */
import pino from "pino";

export function createLogger(level: string): { logger: pino.Logger; flush: () => void } {
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ["req.headers.authorization", "headers.authorization", "authorization"], censor: "[redacted]" },
    },
    destination,
  );
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Nothing buffered, or stdout already closed: there is nothing left to save.
      }
    },
  };
}
