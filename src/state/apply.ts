/**
 * The pure definition of a transition's effect: the row it leaves. The worker builds its in-memory
 * records with it (an eagerly started run's row, the row a park or a completion leaves), the PostgreSQL
 * store builds the rows a batch inserted with it, and the behaviour suite checks every store against it.
 */
import { EXECUTION_COLUMN_NAMES, EXECUTION_COLUMN_TYPES, type ExecutionRow, ROW_DEFAULTS } from "./columns.js";
import { type Compiled, compileExpr, type Params } from "./expr.js";
import { perTransition } from "./per-transition.js";
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
  return builderOf(transition)(row ?? BLANK_ROW, params);
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

type RowBuilder = (before: ExecutionRow, params: Params) => ExecutionRow;

/** Each transition's builder, made once: the worker applies a transition per run and per completion. */
const builderOf = perTransition(compileTransition);

/**
 * One function per transition that returns the whole row as one object literal, every column in
 * `EXECUTION_COLUMN_NAMES` order: a written column from its compiled expression (numbers stay numbers and
 * text stays text, whatever the parameter's JavaScript type was), any other copied from the row before.
 * Generated source, because a literal is what makes the row in one allocation of one shape; copying the
 * row and then setting columns cost about what interpreting the expressions did
 * (docs/decisions/047-hot-path-without-interpreters.md).
 * Only column names (checked to be plain identifiers) and indexes enter the source; every value is an
 * argument.
 */
function compileTransition(transition: Transition): RowBuilder {
  const writes: Compiled[] = [];
  const fields = EXECUTION_COLUMN_NAMES.map((column) => {
    if (!/^[a-z_]+$/.test(column)) throw new Error(`column name ${column} is not a plain identifier`);
    const expr = transition.set[column];
    if (expr === undefined) return `${column}: before.${column}`;
    const compute = compileExpr(expr);
    writes.push(EXECUTION_COLUMN_TYPES[column] === "text" ? asText(compute) : asNumber(compute));
    return `${column}: w[${writes.length - 1}](before, params)`;
  });
  const make = new Function("w", `return (before, params) => ({ ${fields.join(", ")} });`) as (w: Compiled[]) => RowBuilder;
  return make(writes);
}

function asText(compute: Compiled): Compiled {
  return (row, params) => {
    const value = compute(row, params);
    return value === null ? null : String(value);
  };
}

function asNumber(compute: Compiled): Compiled {
  return (row, params) => {
    const value = compute(row, params);
    return value === null ? null : Number(value);
  };
}
