/**
 * Step records and failed attempts as the JSON the statements read with `jsonb_to_recordset` (user JSON
 * travels as JSON *strings*, so `->>` yields exactly the text the engine produced).
 */
import type { AttemptRecord, StepRecord } from "../../core/types.js";
import { encodeError, STEP_COLUMN_LIST } from "../row-mapping.js";

/** Step columns other than the execution id (which always comes from the fenced row, never from a record). */
export const STEP_INSERT_FIELDS = STEP_COLUMN_LIST.filter((c) => c !== "execution_id");

const STEP_TYPES: Record<string, string> = {
  attempts: "integer",
  seq: "integer",
  wake_at: "bigint",
  started_at: "bigint",
  completed_at: "bigint",
  settled_in: "bigint",
  execution_attempt: "integer",
  attempt_started_at: "bigint",
};

/** `name text, kind text, …` for `jsonb_to_recordset(...) AS x(…)`. */
export const STEP_RECORDSET = STEP_INSERT_FIELDS.map((c) => `${c} ${STEP_TYPES[c] ?? "text"}`).join(", ");

/**
 * The last record wins when a write names one step twice (an upsert may not touch a row twice). Null
 * fields are left out (`undefined` is not serialised): `jsonb_to_recordset` reads a missing key as NULL,
 * and this JSON travels with every checkpoint.
 */
export function stepsJson(steps: readonly StepRecord[]): object[] {
  return lastOfEachName(steps).map((s) => ({
    name: s.name,
    kind: s.kind,
    state: s.state,
    result: s.resultJson ?? undefined,
    error: s.error === null ? undefined : encodeError(s.error),
    attempts: s.attempts,
    wake_at: s.wakeAt ?? undefined,
    schema: s.schemaJson ?? undefined,
    started_at: s.startedAt,
    completed_at: s.completedAt ?? undefined,
    seq: s.seq,
    child_id: s.childId ?? undefined,
    copied_from: s.copiedFrom ?? undefined,
    settled_in: s.settledIn ?? undefined,
    execution_attempt: s.executionAttempt ?? undefined,
    attempt_started_at: s.attemptStartedAt ?? undefined,
  }));
}

/** `steps` with only the last record of each name, in the order the names first appear. */
function lastOfEachName(steps: readonly StepRecord[]): readonly StepRecord[] {
  if (steps.length < 2) return steps; // the common write: one record
  const byName = new Map<string, StepRecord>();
  for (const step of steps) byName.set(step.name, step);
  return [...byName.values()];
}

export function attemptsJson(attempts: readonly AttemptRecord[]): object[] {
  return attempts.map((a) => ({
    step: a.step,
    attempt: a.attempt,
    execution_attempt: a.executionAttempt,
    started_at: a.startedAt,
    ended_at: a.endedAt,
    error: JSON.stringify(a.error),
  }));
}
