/**
 * SIGTERM/SIGINT handling shared by the long-running commands: drain once and exit 0. A second
 * signal exits at once (130); a drain that overruns the grace period by far exits 1, so a stuck
 * shutdown never leaves a half-stopped process behind. Before exiting, the spans a registered
 * OpenTelemetry SDK still holds are exported (those of the runs that ended while draining).
 */
import { flushTraces } from "../worker/tracing.js";

const DRAIN_SLACK_MS = 15_000;
const TRACE_FLUSH_MS = 5_000;

export function onShutdownSignal(graceMs: number, shutdown: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`zart: second ${signal}, exiting without draining`);
      process.exit(130);
    }
    stopping = true;
    const watchdog = setTimeout(() => {
      console.error(`zart: shutdown did not finish within ${Math.round((graceMs + DRAIN_SLACK_MS) / 1000)} s, exiting`);
      process.exit(1);
    }, graceMs + DRAIN_SLACK_MS);
    watchdog.unref();
    void shutdown(signal)
      .then(
        () => 0,
        (error: unknown) => {
          console.error(`zart: shutdown failed: ${(error as Error).message}`);
          return 1;
        },
      )
      .then(async (code) => {
        await flushTraces(TRACE_FLUSH_MS);
        process.exit(code);
      });
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
