/**
 * PostgreSQL renderings of the transitions (src/state/transitions.ts): positional parameters for one
 * row, JSON fields for a batch, and the per-row choice between several transitions (a CASE per column),
 * which is how one statement applies a batch of different checkpoints or a delivery that may also claim.
 */
import type { ColumnType, ExecutionColumn } from "../../state/columns.js";
import { EXECUTION_COLUMN_TYPES } from "../../state/columns.js";
import { type Expr, pgType, type RenderContext, renderExpr } from "../../state/expr.js";
import { columnsOf, type Transition } from "../../state/transitions.js";

/** Positional parameters, numbered in order of first use from `first`; `names` lists them in that order. */
export class Positional {
  readonly names: string[] = [];
  constructor(private readonly first = 1) {}

  ref(name: string, type: ColumnType): string {
    return this.cast(name, pgType(type));
  }

  /** A parameter with an explicit PostgreSQL type (e.g. `text[]`). */
  cast(name: string, pgTypeName: string): string {
    let index = this.names.indexOf(name);
    if (index < 0) index = this.names.push(name) - 1;
    return `$${this.first + index}::${pgTypeName}`;
  }

  values(params: Readonly<Record<string, unknown>>): unknown[] {
    return this.names.map((name) => {
      const value = params[name];
      if (value === undefined) throw new Error(`statement parameter "${name}" is missing`);
      return value;
    });
  }
}

/** A render context over row alias `row` with positional parameters. */
export function positionalContext(positional: Positional, row = "e"): RenderContext {
  return { dialect: "postgres", param: (name, type) => positional.ref(name, type), column: (c) => `${row}.${c}` };
}

/** A render context over row alias `row` whose parameters are fields of the JSON object `json`. */
export function jsonContext(json: string, row = "e"): RenderContext {
  return {
    dialect: "postgres",
    param: (name, type) => `(${json}->>'${name}')::${pgType(type)}`,
    column: (c) => `${row}.${c}`,
  };
}

export interface Case {
  /** SQL condition choosing this transition for the row. */
  when: string;
  transition: Transition;
}

/**
 * A SET list applying, per row, the first case whose condition holds; a column no chosen transition writes
 * keeps its value. With one case whose condition is `TRUE`, it is that transition's plain SET list.
 */
export function caseSetList(cases: readonly Case[], ctx: RenderContext): string {
  const columns = new Set<ExecutionColumn>();
  for (const { transition } of cases) for (const c of columnsOf(transition)) columns.add(c);
  return [...columns]
    .map((c) => {
      const type = EXECUTION_COLUMN_TYPES[c];
      const only = cases.length === 1 ? cases[0] : undefined;
      if (only && only.when === "TRUE") return `${c} = ${renderExpr(only.transition.set[c] as Expr, type, ctx)}`;
      const branches = cases.map(({ when, transition }) => {
        const expr = transition.set[c];
        return `WHEN ${when} THEN ${expr === undefined ? ctx.column(c) : renderExpr(expr, type, ctx)}`;
      });
      return `${c} = CASE ${branches.join(" ")} ELSE ${ctx.column(c)} END`;
    })
    .join(",\n    ");
}

/** `status IN (...)` for a transition's source statuses. */
export function fromStatuses(transition: Transition, column: string): string {
  if (transition.from === "insert") throw new Error(`${transition.name} creates rows`);
  return `${column} IN (${transition.from.map((s) => `'${s}'`).join(", ")})`;
}
