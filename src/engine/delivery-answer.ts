/**
 * What the store's answer to an event delivery means to the caller: "delivered" or "buffered", or the
 * contract's error for an unknown execution, one not waiting for that event (with the reason), or a
 * payload its wait's schema refused.
 */
import { ZartError } from "../core/errors.js";
import type { DeliverOutcome, NotWaitingReason } from "../store/store.js";
import { executionNotFound } from "./execution-id.js";

export function deliveryAnswer(id: string, eventName: string, result: DeliverOutcome): "delivered" | "buffered" {
  switch (result.outcome) {
    case "not_found":
      throw executionNotFound(id);
    case "not_waiting":
      throw new ZartError("not_waiting_for_event", notWaitingMessage(id, eventName, result.reason));
    case "invalid":
      throw new ZartError("invalid_data", result.message);
    case "buffered":
    case "delivered":
      return result.outcome;
  }
}

function notWaitingMessage(id: string, eventName: string, reason: NotWaitingReason): string {
  const base = `Execution ${id} is not waiting for event "${eventName}"`;
  if (reason === "timed_out") return `${base}: the wait timed out`;
  if (reason === "deadline") return `${base}: the execution timed out`;
  if (reason === "ended") return `${base}: it has ended`;
  return base;
}
