/** The spinner's text while `zart wait` waits: id, status, current step, elapsed time. Pure. */
import type { Execution } from "../../client/index.js";
import { printable } from "./printable.js";
import { formatDuration } from "./time.js";

export type ProgressState = Pick<Execution, "status" | "current_step" | "waiting_for_event">;

/** "12.3s" under a minute (the spinner redraws often enough for tenths to move), then "3m 05s". */
export function elapsed(ms: number): string {
  return ms < 60_000 ? `${(Math.floor(ms / 100) / 10).toFixed(1)}s` : formatDuration(ms);
}

/**
 * `exec-… · waiting · event manager-approval · 4.2s` (`step NAME` while a step runs), cut to
 * `maxWidth` characters so the line never wraps (a wrapped spinner line redraws badly). What is cut is
 * the end of the id, status and step: the elapsed time stays in view while there is room for it.
 */
export function progressText(id: string, state: ProgressState | undefined, elapsedMs: number, maxWidth = Number.POSITIVE_INFINITY): string {
  const parts = [id];
  if (state) {
    parts.push(state.status);
    if (state.waiting_for_event) parts.push(`event ${state.waiting_for_event}`);
    else if (state.current_step) parts.push(`step ${state.current_step}`);
  }
  const what = Array.from(printable(parts.join(" · ")));
  const time = ` · ${elapsed(elapsedMs)}`;
  if (what.length + time.length <= maxWidth) return what.join("") + time;
  const room = maxWidth - time.length - 1;
  if (room >= 1) return `${what.slice(0, room).join("")}…${time}`;
  return `${Array.from(what.join("") + time)
    .slice(0, Math.max(0, maxWidth - 1))
    .join("")}…`;
}
