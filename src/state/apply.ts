/**
 * The pure definition of a transition's effect: the row it leaves. The worker builds its in-memory
 * records with it (an eagerly started run's row, the row a park or a completion leaves), and the
 * behaviour suite checks every store against it.
 */
import { EXECUTION_COLUMN_TYPES, type ExecutionColumn, type ExecutionRow, ROW_DEFAULTS } from "./columns.js";
import { evaluate, type Params } from "./expr.js";
import type { Transition } from "./transitions.js";

/** Whether the transition applies to a row in this status (the fence, when there is one, is checked apart). */
function appliesTo(transition: Transition, row: ExecutionRow | null): boolean {
  if (transition.from === "insert") return row === null;
  return row !== null && (transition.from as readonly string[]).includes(row.status);
}

/**
 * The row after the transition; `row` is null for a transition that creates it. Throws when the
 * transition does not apply to the row's status: callers decide applicability first.
 */
export function applyTransition(row: ExecutionRow | null, transition: Transition, params: Params): ExecutionRow {
  if (!appliesTo(transition, row)) {
    throw new Error(`transition ${transition.name} does not apply to a ${row === null ? "missing" : row.status} row`);
  }
  const before: ExecutionRow = row ?? blankRow();
  const after = { ...before };
  for (const [column, expr] of Object.entries(transition.set) as [ExecutionColumn, NonNullable<Transition["set"][ExecutionColumn]>][]) {
    (after as Record<ExecutionColumn, unknown>)[column] = normalise(column, evaluate(expr, before, params));
  }
  return after;
}

function blankRow(): ExecutionRow {
  return { id: "", task: "", status: "pending", data: "", created_at: 0, updated_at: 0, ...ROW_DEFAULTS };
}

/** Numbers stay numbers and text stays text, whatever the parameter's JavaScript type was. */
function normalise(column: ExecutionColumn, value: string | number | null): string | number | null {
  if (value === null) return null;
  return EXECUTION_COLUMN_TYPES[column] === "text" ? String(value) : Number(value);
}
