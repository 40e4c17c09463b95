/**
 * Recovering executions (operations.md §2): resume in place, and rerun as a new execution, each one
 * IMMEDIATE transaction, so two racing retries resume once (the status guard of `resume` decides) and a
 * rerun's row and its copied records appear together.
 */
import type { ErrorInfo } from "../../core/types.js";
import { TRANSITIONS } from "../../state/transitions.js";
import { AFTER_EVERY_RECORD, CANCELLED_CHILD_CODE, type RerunOutcome, type ResumeOutcome, resumeNotices } from "../operations.js";
import { STEP_COLUMN_LIST, toExecution } from "../row-mapping.js";
import type { NewExecution, Notice } from "../store.js";
import { SELECT_BY_ID } from "./commands.js";
import { insertExecution } from "./create.js";
import type { Connection } from "./statement-cache.js";
import { transitionSql } from "./transition-statements.js";

/**
 * The failed records a resume sets aside: the failure that ended it, and (after a cancel) the child records
 * the cancellation failed (the cascade wrote them at the parent's end time).
 */
const SET_ASIDE = `execution_id = @id AND state = 'failed' AND (name = @step OR (@cancelled = 1 AND kind = 'child'
    AND completed_at = @ended AND json_extract(error, '$.code') = '${CANCELLED_CHILD_CODE}'))`;
/**
 * A set-aside record of a child, sleep or event wait is kept as an attempt of its own before the next run
 * replaces it (a step's failed attempts are written as they happen).
 */
const KEEP_AS_ATTEMPT = `
  INSERT INTO step_attempts (execution_id, step, attempt, execution_attempt, started_at, ended_at, error)
  SELECT execution_id, name,
    COALESCE((SELECT MAX(a.attempt) FROM step_attempts a WHERE a.execution_id = steps.execution_id AND a.step = steps.name), 0) + 1,
    COALESCE(execution_attempt, @attempt), started_at, COALESCE(completed_at, @ended), error
  FROM steps WHERE kind <> 'step' AND error IS NOT NULL AND ${SET_ASIDE}`;
const DISCARD = `UPDATE steps SET state = 'discarded' WHERE ${SET_ASIDE}`;

const SELECT_SEQ = "SELECT seq FROM steps WHERE execution_id = ? AND name = ?";
const RUNNING_STEP = "SELECT 1 AS yes FROM executions WHERE id = ? AND status = 'running' AND current_step = ?";
// Copies keep their order (StepRecord.settledIn) and all come before the rerun's first run (token 1).
const COPIED: Record<string, string> = {
  execution_id: "@target",
  copied_from: "@source",
  settled_in: "settled_in - (SELECT lease_token + 1 FROM executions WHERE id = @source)",
};
const COPY_STEPS = `
  INSERT INTO steps (${STEP_COLUMN_LIST.join(", ")})
  SELECT ${STEP_COLUMN_LIST.map((c) => COPIED[c] ?? c).join(", ")}
  FROM steps WHERE execution_id = @source AND seq < @seq`;
const COPY_ATTEMPTS = `
  INSERT INTO step_attempts (execution_id, step, attempt, execution_attempt, started_at, ended_at, error)
  SELECT @target, a.step, a.attempt, a.execution_attempt, a.started_at, a.ended_at, a.error
  FROM step_attempts a JOIN steps s ON s.execution_id = a.execution_id AND s.name = a.step
  WHERE a.execution_id = @source AND s.seq < @seq`;

export function resumeExecution(conn: Connection, id: string, now: number): { result: ResumeOutcome; notices: Notice[] } {
  const run = conn.db.transaction((): { result: ResumeOutcome; notices: Notice[] } => {
    const before = conn.sql.executionRow(SELECT_BY_ID, id);
    if (!before) return { result: { outcome: "not_found" }, notices: [] };
    const after = conn.sql.executionRow(transitionSql(TRANSITIONS.resume), { id, now });
    if (!after) return { result: { outcome: "not_retryable", execution: toExecution(before) }, notices: [] };
    const step = before.error === null ? null : ((JSON.parse(before.error) as ErrorInfo).step ?? null);
    const setAside = { id, step, cancelled: before.status === "cancelled" ? 1 : 0, ended: before.completed_at ?? now };
    conn.sql.get(KEEP_AS_ATTEMPT).run({ ...setAside, attempt: before.attempt });
    conn.sql.get(DISCARD).run(setAside);
    const execution = toExecution(after);
    return { result: { outcome: "resumed", execution }, notices: resumeNotices(execution) };
  });
  return run.immediate();
}

export function rerunExecution(
  conn: Connection,
  input: NewExecution & { rerunOf: string },
  fromStep: string | null,
): { result: RerunOutcome; notices: Notice[] } {
  const run = conn.db.transaction((): { result: RerunOutcome; notices: Notice[] } => {
    if (!conn.sql.executionRow(SELECT_BY_ID, input.rerunOf)) return { result: { outcome: "not_found" }, notices: [] };
    let seq: number | null = null;
    if (fromStep !== null) {
      const found = conn.sql.get(SELECT_SEQ).get(input.rerunOf, fromStep) as { seq: number } | undefined;
      const running = found === undefined && conn.sql.get(RUNNING_STEP).get(input.rerunOf, fromStep) !== undefined;
      if (!found && !running) return { result: { outcome: "unknown_step" }, notices: [] };
      seq = found?.seq ?? AFTER_EVERY_RECORD;
    }
    const notices: Notice[] = [];
    const result = insertExecution(conn, { ...input, steps: undefined }, notices);
    if (result.created && seq !== null) {
      const params = { target: input.id, source: input.rerunOf, seq };
      conn.sql.get(COPY_STEPS).run(params);
      conn.sql.get(COPY_ATTEMPTS).run(params);
    }
    return { result: { outcome: "created", result }, notices };
  });
  return run.immediate();
}
