/**
 * Waits for an execution to end (long-poll), with a live spinner on a TTY stderr: elapsed time and the
 * current step, refreshed by polling `GET /executions/:id` on a second client (so `--json` still
 * prints the wait's own answer). Nothing is drawn or polled when stderr is not a TTY. A server lost
 * while waiting (a restart or a deploy: the wait is only a read) is asked again for up to a minute, so
 * `zart wait $ID || rollback` does not roll back on a deploy.
 */
import yoctoSpinner from "yocto-spinner";
import { type WaitResult, ZartConnectionError } from "../../client/index.js";
import { type ProgressState, progressText } from "../format/progress.js";
import type { ClientContext } from "./client-context.js";

const POLL_MS = 500;
const REDRAW_MS = 100;
/** One request at most this long when waiting without a timeout (the client splits it further). */
const UNBOUNDED_CHUNK_S = 3600;

/** How long a wait keeps asking a server it lost before it gives up (exit 1), and how often it asks. */
const RECONNECT_FOR_MS = 60_000;
const RECONNECT_EVERY_MS = 1000;

/** Resolves with the wait's final answer: `done` once the execution ended, not done at the timeout. */
export async function waitForEnd(ctx: ClientContext, id: string, timeoutSeconds: number | undefined): Promise<WaitResult> {
  const progress = ctx.terminal.spinner ? showProgress(ctx, id) : undefined;
  const deadline = timeoutSeconds === undefined ? undefined : ctx.terminal.now() + timeoutSeconds * 1000;
  let lostAt: number | undefined;
  try {
    for (;;) {
      const left = deadline === undefined ? UNBOUNDED_CHUNK_S : Math.max(0, Math.ceil((deadline - ctx.terminal.now()) / 1000));
      try {
        const result = await ctx.client.wait(id, { timeoutSeconds: left });
        lostAt = undefined;
        // Not done before the deadline: a server shutting down answers its open waits early.
        if (result.done || (deadline !== undefined && ctx.terminal.now() >= deadline)) return result;
      } catch (error) {
        if (!(error instanceof ZartConnectionError)) throw error;
        const now = ctx.terminal.now();
        if (lostAt === undefined)
          ctx.terminal.err(`zart: lost the server at ${error.url} (${error.reason ?? error.message}); asking again for up to 60 s`);
        lostAt ??= now;
        if (now - lostAt >= RECONNECT_FOR_MS || (deadline !== undefined && now >= deadline)) throw error;
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_EVERY_MS));
      }
    }
  } finally {
    progress?.stop();
  }
}

function showProgress(ctx: ClientContext, id: string): { stop(): void } {
  const started = ctx.terminal.now();
  const stream = ctx.terminal.spinnerStream;
  let state: ProgressState | undefined;
  // The frame and a blank take two columns; one more keeps the cursor off the last one.
  const text = () => progressText(id, state, ctx.terminal.now() - started, (stream.columns || 80) - 3);
  const spinner = yoctoSpinner({ stream, text: text() }).start();
  const redraw = setInterval(() => {
    spinner.text = text();
  }, REDRAW_MS);
  const aborter = new AbortController();
  const poll = async () => {
    while (!aborter.signal.aborted) {
      try {
        state = await ctx.pollingClient.get(id);
      } catch {
        // The wait itself reports errors; a failed poll only leaves the last state on screen.
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
    }
  };
  void poll();
  return {
    stop() {
      aborter.abort();
      clearInterval(redraw);
      spinner.stop();
    },
  };
}
