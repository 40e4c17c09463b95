/**
 * SQL for a transition, generated from its definition (src/state/transitions.ts) for either store: the
 * SET list of an UPDATE, the column and value lists of an INSERT, and the status guard. The stores wrap
 * these in their own statements (fences, step rows, counts) but never spell out a column assignment.
 */
import { EXECUTION_COLUMN_TYPES, type ExecutionColumn, ROW_DEFAULTS } from "../state/columns.js";
import { type Dialect, type Expr, lit, type RenderContext, renderExpr } from "../state/expr.js";
import { columnsOf, type Transition } from "../state/transitions.js";

/** `a = <expr>, b = <expr>` for an UPDATE of the row `ctx.column` names. */
export function setList(transition: Transition, ctx: RenderContext): string {
  return columnsOf(transition)
    .map((c) => `${c} = ${renderExpr(transition.set[c] as Expr, EXECUTION_COLUMN_TYPES[c], ctx)}`)
    .join(", ");
}

/** Column and value lists of an INSERT: columns the transition does not set keep the schema default. */
export function insertLists(transition: Transition, ctx: Omit<RenderContext, "column">): { columns: string; values: string } {
  const defaults = ROW_DEFAULTS as Record<string, string | number | null>;
  // Expressions that read a column of the row being created read its default.
  const render: RenderContext = { ...ctx, column: (c) => renderExpr(lit(defaults[c] ?? null), EXECUTION_COLUMN_TYPES[c], render) };
  const columns = columnsOf(transition);
  return {
    columns: columns.join(", "),
    values: columns.map((c) => renderExpr(transition.set[c] as Expr, EXECUTION_COLUMN_TYPES[c], render)).join(", "),
  };
}

/** `status IN (...)` for the transition's source statuses. */
export function statusGuard(transition: Transition, column: string): string {
  if (transition.from === "insert") throw new Error(`${transition.name} creates rows; it has no status guard`);
  return `${column} IN (${transition.from.map((s) => `'${s}'`).join(", ")})`;
}

/** A render context for a plain UPDATE: columns by name, optionally qualified. */
export function updateContext(dialect: Dialect, param: RenderContext["param"], qualifier = ""): RenderContext {
  const prefix = qualifier ? `${qualifier}.` : "";
  return { dialect, param, column: (c: ExecutionColumn) => `${prefix}${c}` };
}
