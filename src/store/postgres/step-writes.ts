/**
 * CTEs that write what a checkpoint carries beside the execution row: step records (upserted; a final
 * record is never overwritten, except to be discarded by a retry), failed attempts (appended) and the
 * buffered events its waits took (deleted). `source` yields only fenced rows, so nothing is written for a
 * checkpoint that was fenced out; `id` names the execution id in it.
 */
import { STEP_COLUMN_LIST, STEP_COLUMNS } from "../row-mapping.js";
import { STEP_INSERT_FIELDS, STEP_RECORDSET } from "./step-json.js";

/** The timeline's columns keep what they had when a rewrite (of a replayed record) does not carry them. */
const KEPT_WHEN_NULL: ReadonlySet<string> = new Set(["execution_attempt", "attempt_started_at"]);

const UPDATED = STEP_INSERT_FIELDS.filter((c) => c !== "name")
  .map((c) => (KEPT_WHEN_NULL.has(c) ? `${c} = COALESCE(excluded.${c}, st.${c})` : `${c} = excluded.${c}`))
  .join(", ");

/** The step columns as json_build_object arguments (for steps returned as JSON): key, value, key, value… */
export const STEP_JSON_FIELDS = STEP_COLUMN_LIST.map((c) => `'${c}', st.${c}`).join(", ");

/**
 * `attempts` and `consumed` may be null: the statement then has no CTE for them (a lone checkpoint with
 * nothing of the kind, the common case, is a cheaper statement: docs/decisions/033-lean-lone-checkpoints.md).
 */
export function stepWritesSql(
  s: string,
  source: string,
  id: string,
  steps: string,
  attempts: string | null,
  consumed: string | null,
): string {
  const ctes = [
    `steps_written AS (
  INSERT INTO ${s}.steps AS st (${STEP_COLUMNS})
  SELECT ${id}, ${STEP_INSERT_FIELDS.map((c) => `x.${c}`).join(", ")}
  FROM ${source}, jsonb_to_recordset(${steps}) AS x(${STEP_RECORDSET})
  ON CONFLICT (execution_id, name) DO UPDATE SET ${UPDATED}
  WHERE st.state NOT IN ('completed', 'failed') OR excluded.state = 'discarded'
)`,
  ];
  if (attempts !== null)
    ctes.push(`attempts_written AS (
  INSERT INTO ${s}.step_attempts (execution_id, step, attempt, execution_attempt, started_at, ended_at, error)
  SELECT ${id}, x.step, x.attempt, x.execution_attempt, x.started_at, x.ended_at, x.error
  FROM ${source},
    jsonb_to_recordset(${attempts}) AS x(step text, attempt integer, execution_attempt integer, started_at bigint, ended_at bigint, error text)
  ON CONFLICT DO NOTHING
)`);
  if (consumed !== null)
    ctes.push(`events_consumed AS (
  DELETE FROM ${s}.events ev USING ${source}
  WHERE ev.execution_id = ${id} AND ev.id IN (SELECT jsonb_array_elements_text(${consumed})::bigint)
)`);
  return ctes.join(",\n");
}
