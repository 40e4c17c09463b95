/**
 * Waits for an execution to end (long-poll), with a live spinner on a TTY stderr: elapsed time and the
 * current step, refreshed by polling `GET /executions/:id` on a second client (so `--json` still
 * prints the wait's own answer). Nothing is drawn or polled when stderr is not a TTY.
 */
import yoctoSpinner from "yocto-spinner";
import type { WaitResult } from "../../client/index.js";
import { type ProgressState, progressText } from "../format/progress.js";
import type { ClientContext } from "./client-context.js";

const POLL_MS = 500;
const REDRAW_MS = 100;
/** One request at most this long when waiting without a timeout (the client splits it further). */
const UNBOUNDED_CHUNK_S = 3600;

/** Resolves with the wait's final answer: `done` once the execution ended, not done at the timeout. */
export async function waitForEnd(ctx: ClientContext, id: string, timeoutSeconds: number | undefined): Promise<WaitResult> {
  const progress = ctx.terminal.spinner ? showProgress(ctx, id) : undefined;
  try {
    if (timeoutSeconds !== undefined) return await ctx.client.wait(id, { timeoutSeconds });
    for (;;) {
      const result = await ctx.client.wait(id, { timeoutSeconds: UNBOUNDED_CHUNK_S });
      if (result.done) return result;
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
