/** The spinner's text while `zart wait` waits: id, status, current step, elapsed time. Pure. */
import type { Execution } from "../../client/index.js";
import { formatDuration } from "./time.js";

export type ProgressState = Pick<Execution, "status" | "current_step" | "waiting_for_event">;

/** "12.3s" under a minute (the spinner redraws often enough for tenths to move), then "3m 05s". */
export function elapsed(ms: number): string {
  return ms < 60_000 ? `${(Math.floor(ms / 100) / 10).toFixed(1)}s` : formatDuration(ms);
}

/**
 * `exec-… · waiting · event manager-approval · 4.2s` (`step NAME` while a step runs), cut to
 * `maxWidth` characters so the line never wraps (a wrapped spinner line redraws badly).
 */
export function progressText(id: string, state: ProgressState | undefined, elapsedMs: number, maxWidth = Number.POSITIVE_INFINITY): string {
  const parts = [id];
  if (state) {
    parts.push(state.status);
    if (state.waiting_for_event) parts.push(`event ${state.waiting_for_event}`);
    else if (state.current_step) parts.push(`step ${state.current_step}`);
  }
  parts.push(elapsed(elapsedMs));
  const text = parts.join(" · ");
  const chars = Array.from(text);
  return chars.length <= maxWidth ? text : `${chars.slice(0, Math.max(0, maxWidth - 1)).join("")}…`;
}
