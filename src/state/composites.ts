/**
 * Transitions the stores write as one statement, each composed from two (or three) entries of the table
 * in transitions.ts: an eager start (the row born claimed, or born finished) and an eager resume (an event
 * delivered and the execution claimed, or also ended). Composing keeps the table the only definition: each
 * expression of the later transition reads the row as the earlier one left it.
 */
import type { ColumnType, ExecutionColumn } from "./columns.js";
import { type Cond, col, type Expr, param } from "./expr.js";
import { TRANSITIONS, type Transition } from "./transitions.js";

/**
 * `second` applied after `first`, as one transition (one UPDATE): each expression of `second` reads the
 * row as `first` left it. `rename` maps `second`'s parameter names to new ones (when the two steps need
 * different values of a parameter both call, e.g. two times).
 */
function compose(name: string, first: Transition, second: Transition, rename: Record<string, string> = {}): Transition {
  const renamed = (e: Expr): Expr => substitute(e, (c) => first.set[c] ?? col(c), rename);
  const set: Partial<Record<ExecutionColumn, Expr>> = { ...first.set };
  for (const [column, expr] of Object.entries(second.set) as [ExecutionColumn, Expr][]) set[column] = renamed(expr);
  const params: Record<string, ColumnType> = { ...first.params };
  for (const [p, type] of Object.entries(second.params)) params[rename[p] ?? p] = type;
  return { name, from: first.from, params, set };
}

function substitute(expr: Expr, column: (name: ExecutionColumn) => Expr, rename: Record<string, string>): Expr {
  const sub = (e: Expr) => substitute(e, column, rename);
  switch (expr.op) {
    case "param":
      return rename[expr.name] ? param(rename[expr.name] as string) : expr;
    case "col":
      return column(expr.name);
    case "lit":
      return expr;
    case "add":
    case "sub":
    case "max":
    case "coalesce":
      return { ...expr, a: sub(expr.a), b: sub(expr.b) };
    case "if":
      return { op: "if", cond: substituteCond(expr.cond, column, rename), ifTrue: sub(expr.ifTrue), ifFalse: sub(expr.ifFalse) };
  }
}

function substituteCond(cond: Cond, column: (name: ExecutionColumn) => Expr, rename: Record<string, string>): Cond {
  const sub = (e: Expr) => substitute(e, column, rename);
  switch (cond.op) {
    case "and":
      return { op: "and", a: substituteCond(cond.a, column, rename), b: substituteCond(cond.b, column, rename) };
    case "set":
    case "present":
      return { op: cond.op, a: sub(cond.a) };
    case "le":
    case "eq":
      return { op: cond.op, a: sub(cond.a), b: sub(cond.b) };
  }
}

/** Composites the stores write as one statement. */
export const COMPOSITES = {
  /** Eager start: the row is born claimed by the worker that will run it. */
  create_claimed: compose("create_claimed", TRANSITIONS.create, TRANSITIONS.claim),
  /** Eager start of a run that ended before its row was written: born completed (`at` is when it ended). */
  create_completed: compose("create_completed", compose("c", TRANSITIONS.create, TRANSITIONS.claim), TRANSITIONS.complete, { now: "at" }),
  create_failed: compose("create_failed", compose("c", TRANSITIONS.create, TRANSITIONS.claim), TRANSITIONS.fail, { now: "at" }),
  /** Eager resume: the event is delivered and the execution claimed by the delivering process's worker. */
  deliver_claimed: compose("deliver_claimed", TRANSITIONS.deliver, TRANSITIONS.claim),
  /** Eager resume of a run that ended before the delivery was written: delivered, claimed and ended at `at`. */
  deliver_completed: compose("deliver_completed", compose("d", TRANSITIONS.deliver, TRANSITIONS.claim), TRANSITIONS.complete, {
    now: "at",
  }),
  deliver_failed: compose("deliver_failed", compose("d", TRANSITIONS.deliver, TRANSITIONS.claim), TRANSITIONS.fail, { now: "at" }),
} as const;
