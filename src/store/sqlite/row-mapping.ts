/** SQLite-only row helpers; the row shapes and their mapping are shared (`../row-mapping.ts`). */
import type { StepRecord } from "../../core/types.js";
import { encodeError } from "../row-mapping.js";

export * from "../row-mapping.js";

/** Positional parameters for the steps upsert, in STEP_COLUMNS order. */
export function stepParams(step: StepRecord): unknown[] {
  return [
    step.executionId,
    step.name,
    step.kind,
    step.state,
    step.resultJson,
    encodeError(step.error),
    step.attempts,
    step.wakeAt,
    step.schemaJson,
    step.startedAt,
    step.completedAt,
  ];
}
