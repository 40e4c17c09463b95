/** The step records a run makes itself (a sleep's, an event wait's, a child's; steps run for real make theirs in step-runner.ts). */
import { FINAL_STEP_STATES, type StepKind, type StepRecord } from "../core/types.js";
import type { SettleOrder } from "./settle-order.js";

/**
 * A new record, started `now`. A final one is stamped in settle order and belongs to this run
 * (`settledIn`), so replays settle it where this run did (settle-order.ts).
 */
export function newStepRecord(
  run: { readonly executionId: string; readonly attempt: number },
  order: SettleOrder,
  now: number,
  call: { name: string; kind: StepKind; state: StepRecord["state"]; seq: number },
  fields: Partial<StepRecord>,
): StepRecord {
  const final = FINAL_STEP_STATES.has(call.state);
  return {
    executionId: run.executionId,
    name: call.name,
    kind: call.kind,
    state: call.state,
    resultJson: null,
    error: null,
    attempts: 0,
    wakeAt: null,
    schemaJson: null,
    startedAt: now,
    completedAt: final ? order.stamp() : null,
    seq: call.seq,
    childId: null,
    copiedFrom: null,
    settledIn: final ? order.run : null,
    executionAttempt: run.attempt,
    ...fields,
  };
}
