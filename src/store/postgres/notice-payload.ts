/**
 * The NOTIFY payloads sent by `NoticePublisher` and parsed by the listener:
 * `r|<task>|<at>`, `c|<execution id>`, `u|<execution id>` (resumed), and terminal notices packed many to a payload,
 * `T|<status>|<JSON array of execution ids>`. The variable part of `r|` is split at the LAST separator,
 * so a task name that itself contains `|` still parses.
 *
 * Why packed: every execution ends with a terminal notice, and one NOTIFY each would mean a queue entry in
 * PostgreSQL and a message to parse in every listening process. Packed, a flush of a hundred completions
 * sends one or two payloads (docs/decisions/011-packed-terminal-notices.md).
 */
import { EXECUTION_STATUSES, type ExecutionStatus } from "../../core/types.js";
import type { Notice } from "../store.js";

/** PostgreSQL refuses payloads of 8000 bytes or more; stay well below with room for the header. */
const MAX_PAYLOAD_BYTES = 7000;

function splitLast(rest: string): [string, string] | null {
  const at = rest.lastIndexOf("|");
  return at < 0 ? null : [rest.slice(0, at), rest.slice(at + 1)];
}

function isStatus(value: string): value is ExecutionStatus {
  return (EXECUTION_STATUSES as readonly string[]).includes(value);
}

/** The notices in one payload; empty when it is not one of ours. */
export function decodeNotices(payload: string): Notice[] {
  const kind = payload.slice(0, 2);
  const rest = payload.slice(2);
  if (kind === "T|") return decodeTerminals(rest);
  if (kind === "c|") return rest ? [{ kind: "cancelled", executionId: rest }] : [];
  if (kind === "u|") return rest ? [{ kind: "resumed", executionId: rest }] : [];
  const parts = splitLast(rest);
  if (!parts) return [];
  const [head, tail] = parts;
  if (kind === "r|") {
    const at = Number(tail);
    return Number.isFinite(at) && tail !== "" ? [{ kind: "runnable", task: head, at }] : [];
  }
  if (kind === "t|") return isStatus(tail) ? [{ kind: "terminal", executionId: head, status: tail }] : [];
  return [];
}

function decodeTerminals(rest: string): Notice[] {
  const bar = rest.indexOf("|");
  const status = rest.slice(0, bar);
  if (bar < 0 || !isStatus(status)) return [];
  let ids: unknown;
  try {
    ids = JSON.parse(rest.slice(bar + 1));
  } catch {
    return [];
  }
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) return [];
  return (ids as string[]).map((executionId) => ({ kind: "terminal", executionId, status }));
}

/**
 * Payloads for other processes: terminal notices packed by status (in order within a status), the others
 * one each. `reconnected` and `changed` only make sense locally and are never sent.
 */
export function encodeNotices(notices: readonly Notice[]): string[] {
  const payloads: string[] = [];
  const packs = new Map<ExecutionStatus, string[]>();
  for (const notice of notices) {
    switch (notice.kind) {
      case "runnable":
        payloads.push(`r|${notice.task}|${notice.at}`);
        break;
      case "cancelled":
        payloads.push(`c|${notice.executionId}`);
        break;
      case "resumed":
        payloads.push(`u|${notice.executionId}`);
        break;
      case "terminal": {
        const ids = packs.get(notice.status) ?? [];
        ids.push(notice.executionId);
        packs.set(notice.status, ids);
        break;
      }
      case "reconnected":
      case "changed":
        break;
    }
  }
  for (const [status, ids] of packs) payloads.push(...packTerminals(status, ids));
  return payloads;
}

function packTerminals(status: ExecutionStatus, ids: readonly string[]): string[] {
  const payloads: string[] = [];
  const header = `T|${status}|`;
  let pack: string[] = [];
  let bytes = header.length + 2;
  for (const id of ids) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (pack.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      payloads.push(header + JSON.stringify(pack));
      pack = [];
      bytes = header.length + 2;
    }
    pack.push(id);
    bytes += size;
  }
  if (pack.length > 0) payloads.push(header + JSON.stringify(pack));
  return payloads;
}
