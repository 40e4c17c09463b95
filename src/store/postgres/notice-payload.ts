/**
 * The NOTIFY payloads sent by `NoticePublisher` and parsed by the listener:
 * `r|<task>|<at>`, `t|<execution id>|<status>`, `c|<execution id>`. The variable part is split at the
 * LAST separator, so a task name or id that itself contains `|` still parses.
 */
import { EXECUTION_STATUSES, type ExecutionStatus } from "../../core/types.js";
import type { Notice } from "../store.js";

function splitLast(rest: string): [string, string] | null {
  const at = rest.lastIndexOf("|");
  return at < 0 ? null : [rest.slice(0, at), rest.slice(at + 1)];
}

function isStatus(value: string): value is ExecutionStatus {
  return (EXECUTION_STATUSES as readonly string[]).includes(value);
}

export function decodeNotice(payload: string): Notice | null {
  const kind = payload.slice(0, 2);
  const rest = payload.slice(2);
  if (kind === "c|") return rest ? { kind: "cancelled", executionId: rest } : null;
  const parts = splitLast(rest);
  if (!parts) return null;
  const [head, tail] = parts;
  if (kind === "r|") {
    const at = Number(tail);
    return Number.isFinite(at) && tail !== "" ? { kind: "runnable", task: head, at } : null;
  }
  if (kind === "t|") return isStatus(tail) ? { kind: "terminal", executionId: head, status: tail } : null;
  return null;
}

/** The payload for another process, or null for notices that only make sense locally (`reconnected`). */
export function encodeNotice(notice: Notice): string | null {
  switch (notice.kind) {
    case "runnable":
      return `r|${notice.task}|${notice.at}`;
    case "terminal":
      return `t|${notice.executionId}|${notice.status}`;
    case "cancelled":
      return `c|${notice.executionId}`;
    case "reconnected":
      return null;
  }
}
