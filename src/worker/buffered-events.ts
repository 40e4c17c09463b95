/** Events delivered before a wait was stored, as a run's `waitForEvent` takes them. */
import { decodeValue } from "../core/json.js";
import type { CompiledSchema } from "../core/schema.js";
import type { BufferedEvent } from "../store/store.js";
import type { ExecutionLogger } from "./execution-logger.js";

/**
 * The oldest buffered event whose payload the wait's schema accepts. One it refuses stays stored (the
 * sender was told 202, so it is not thrown away) and is logged; the wait takes the next one.
 */
export async function firstAccepted(
  name: string,
  stored: readonly BufferedEvent[],
  schema: CompiledSchema,
  log: ExecutionLogger,
): Promise<BufferedEvent | undefined> {
  for (const event of stored) {
    const checked = await schema.validate(decodeValue(event.payloadJson), "payload");
    if (checked.ok) return event;
    log.warn(
      { event: name, eventId: event.id, reason: checked.message },
      `buffered event "${name}" refused by its wait's schema; kept, not taken`,
    );
  }
  return undefined;
}
