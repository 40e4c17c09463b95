/**
 * The pure definition of a transition's effect: the row it leaves. The worker builds its in-memory
 * records with it (an eagerly started run's row, the row a park or a completion leaves), and the
 * behaviour suite checks every store against it.
 */
import { EXECUTION_COLUMN_TYPES, type ExecutionColumn, type ExecutionRow, ROW_DEFAULTS } from "./columns.js";
import { type Expr, evaluate, type Params } from "./expr.js";
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
  // `before` is only read: the blank row itself serves a creation.
  const before: ExecutionRow = row ?? BLANK_ROW;
  const after: Record<string, unknown> = { ...before };
  for (const { column, expr, text } of writesOf(transition)) {
    const value = evaluate(expr, before, params);
    after[column] = value === null ? null : text ? String(value) : Number(value);
  }
  return after as unknown as ExecutionRow;
}

const BLANK_ROW: ExecutionRow = Object.freeze({
  id: "",
  task: "",
  status: "pending",
  data: "",
  created_at: 0,
  updated_at: 0,
  ...ROW_DEFAULTS,
}) as ExecutionRow;

interface ColumnWrite {
  column: ExecutionColumn;
  expr: Expr;
  /** Numbers stay numbers and text stays text, whatever the parameter's JavaScript type was. */
  text: boolean;
}

/** Each transition's writes, listed once: the worker applies a transition per run and per completion. */
const WRITES = new WeakMap<Transition, readonly ColumnWrite[]>();

function writesOf(transition: Transition): readonly ColumnWrite[] {
  let writes = WRITES.get(transition);
  if (writes === undefined) {
    writes = (Object.entries(transition.set) as [ExecutionColumn, Expr][]).map(([column, expr]) => ({
      column,
      expr,
      text: EXECUTION_COLUMN_TYPES[column] === "text",
    }));
    WRITES.set(transition, writes);
  }
  return writes;
}
