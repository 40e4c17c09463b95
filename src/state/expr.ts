/**
 * A tiny expression language for what a transition writes into a column: a parameter, the column's
 * current value, a literal, and the few operations the state machine needs. The same expression is
 * evaluated in TypeScript (`evaluate`, the pure definition) and rendered to SQL for each store
 * (`renderExpr`), so what a store writes and what the worker assumes it wrote cannot drift apart.
 */
import { type ColumnType, EXECUTION_COLUMN_TYPES, type ExecutionColumn, type ExecutionRow } from "./columns.js";

export type Value = string | number | null;

export type Expr =
  | { op: "param"; name: string }
  | { op: "col"; name: ExecutionColumn }
  | { op: "lit"; value: Value }
  | { op: "add"; a: Expr; b: Expr }
  | { op: "sub"; a: Expr; b: Expr }
  | { op: "max"; a: Expr; b: Expr }
  | { op: "coalesce"; a: Expr; b: Expr }
  | { op: "if"; cond: Cond; ifTrue: Expr; ifFalse: Expr };

export type Cond =
  | { op: "le"; a: Expr; b: Expr }
  | { op: "eq"; a: Expr; b: Expr }
  | { op: "set"; a: Expr }
  | { op: "present"; a: Expr }
  | { op: "and"; a: Cond; b: Cond };

export const param = (name: string): Expr => ({ op: "param", name });
export const col = (name: ExecutionColumn): Expr => ({ op: "col", name });
export const lit = (value: Value): Expr => ({ op: "lit", value });
export const add = (a: Expr, b: Expr): Expr => ({ op: "add", a, b });
export const sub = (a: Expr, b: Expr): Expr => ({ op: "sub", a, b });
export const max = (a: Expr, b: Expr): Expr => ({ op: "max", a, b });
export const coalesce = (a: Expr, b: Expr): Expr => ({ op: "coalesce", a, b });
export const when = (cond: Cond, ifTrue: Expr, ifFalse: Expr): Expr => ({ op: "if", cond, ifTrue, ifFalse });
export const le = (a: Expr, b: Expr): Cond => ({ op: "le", a, b });
export const eq = (a: Expr, b: Expr): Cond => ({ op: "eq", a, b });
/** A flag column (or expression) that is 1. */
export const isSet = (a: Expr): Cond => ({ op: "set", a });
/** Not NULL. */
export const present = (a: Expr): Cond => ({ op: "present", a });
export const and = (a: Cond, b: Cond): Cond => ({ op: "and", a, b });

export type Params = Readonly<Record<string, Value>>;

/** An expression compiled once into a function of the row before the write and the parameters. */
export type Compiled = (row: ExecutionRow, params: Params) => Value;

/**
 * The expression as a function: each node becomes one closure, so applying a transition walks no tree
 * (docs/decisions/047-hot-path-without-interpreters.md). Rendered to SQL, the same expression is what the
 * stores run (`renderExpr`).
 */
export function compileExpr(expr: Expr): Compiled {
  switch (expr.op) {
    case "param": {
      const name = expr.name;
      return (_row, params) => {
        const value = params[name];
        if (value === undefined) throw new Error(`transition parameter "${name}" is missing`);
        return value;
      };
    }
    case "col": {
      const name = expr.name;
      return (row) => row[name];
    }
    case "lit": {
      const value = expr.value;
      return () => value;
    }
    case "add":
    case "sub":
    case "max":
      return compileArithmetic(expr.op, compileExpr(expr.a), compileExpr(expr.b));
    case "coalesce": {
      const a = compileExpr(expr.a);
      const b = compileExpr(expr.b);
      return (row, params) => a(row, params) ?? b(row, params);
    }
    case "if": {
      const cond = compileCond(expr.cond);
      const ifTrue = compileExpr(expr.ifTrue);
      const ifFalse = compileExpr(expr.ifFalse);
      return (row, params) => (cond(row, params) ? ifTrue(row, params) : ifFalse(row, params));
    }
  }
}

function compileArithmetic(op: "add" | "sub" | "max", a: Compiled, b: Compiled): Compiled {
  if (op === "max") {
    // Both stores ignore NULL in GREATEST/MAX of two non-null integers only; every use here is non-null.
    return (row, params) => {
      const x = a(row, params);
      const y = b(row, params);
      return x === null ? y : y === null ? x : Math.max(Number(x), Number(y));
    };
  }
  const sign = op === "add" ? 1 : -1;
  return (row, params) => {
    const x = a(row, params);
    const y = b(row, params);
    return x === null || y === null ? null : Number(x) + sign * Number(y);
  };
}

type CompiledCond = (row: ExecutionRow, params: Params) => boolean;

function compileCond(cond: Cond): CompiledCond {
  if (cond.op === "and") {
    const a = compileCond(cond.a);
    const b = compileCond(cond.b);
    return (row, params) => a(row, params) && b(row, params);
  }
  const a = compileExpr(cond.a);
  if (cond.op === "set") return (row, params) => a(row, params) === 1;
  if (cond.op === "present") return (row, params) => a(row, params) !== null;
  const b = compileExpr(cond.b);
  const le = cond.op === "le";
  return (row, params) => {
    const x = a(row, params);
    const y = b(row, params);
    if (x === null || y === null) return false;
    return le ? Number(x) <= Number(y) : x === y;
  };
}

export type Dialect = "postgres" | "sqlite";

export interface RenderContext {
  dialect: Dialect;
  /** SQL for a parameter (e.g. `$3`, `?`, `(c.patch->>'now')::bigint`); `type` is the column type it feeds. */
  param(name: string, type: ColumnType): string;
  /** SQL for a column of the row being updated (e.g. `e.status`). */
  column(name: ExecutionColumn): string;
}

/** `type`: the type of the column the expression is written to (parameters are cast to it on PostgreSQL). */
export function renderExpr(expr: Expr, type: ColumnType, ctx: RenderContext): string {
  switch (expr.op) {
    case "param":
      return ctx.param(expr.name, type);
    case "col":
      return ctx.column(expr.name);
    case "lit":
      return renderLiteral(expr.value, type, ctx.dialect);
    case "add":
      return `(${renderExpr(expr.a, type, ctx)} + ${renderExpr(expr.b, type, ctx)})`;
    case "sub":
      return `(${renderExpr(expr.a, type, ctx)} - ${renderExpr(expr.b, type, ctx)})`;
    case "max":
      return `${ctx.dialect === "postgres" ? "GREATEST" : "MAX"}(${renderExpr(expr.a, type, ctx)}, ${renderExpr(expr.b, type, ctx)})`;
    case "coalesce":
      return `COALESCE(${renderExpr(expr.a, type, ctx)}, ${renderExpr(expr.b, type, ctx)})`;
    case "if":
      return `CASE WHEN ${renderCond(expr.cond, ctx)} THEN ${renderExpr(expr.ifTrue, type, ctx)} ELSE ${renderExpr(expr.ifFalse, type, ctx)} END`;
  }
}

/** The column type an expression yields, when its parts say (a column, a text literal); null when they do not. */
function typeOf(expr: Expr): ColumnType | null {
  switch (expr.op) {
    case "col":
      return EXECUTION_COLUMN_TYPES[expr.name];
    case "lit":
      return typeof expr.value === "string" ? "text" : typeof expr.value === "number" ? "bigint" : null;
    case "param":
      return null;
    case "add":
    case "sub":
    case "max":
      return "bigint";
    case "coalesce":
      return typeOf(expr.a) ?? typeOf(expr.b);
    case "if":
      return typeOf(expr.ifTrue) ?? typeOf(expr.ifFalse);
  }
}

function renderCond(cond: Cond, ctx: RenderContext): string {
  if (cond.op === "and") return `(${renderCond(cond.a, ctx)} AND ${renderCond(cond.b, ctx)})`;
  if (cond.op === "set") return `${renderExpr(cond.a, "flag", ctx)} = 1`;
  if (cond.op === "present") return `${renderExpr(cond.a, typeOf(cond.a) ?? "bigint", ctx)} IS NOT NULL`;
  const type = typeOf(cond.a) ?? typeOf(cond.b) ?? "bigint";
  return `${renderExpr(cond.a, type, ctx)} ${cond.op === "le" ? "<=" : "="} ${renderExpr(cond.b, type, ctx)}`;
}

function renderLiteral(value: Value, type: ColumnType, dialect: Dialect): string {
  if (value === null) return dialect === "postgres" ? `NULL::${pgType(type)}` : "NULL";
  if (typeof value === "number") return String(value);
  return `'${value.replaceAll("'", "''")}'`;
}

/** The PostgreSQL type of a column type (flags are integers in both stores). */
export function pgType(type: ColumnType): string {
  return type === "text" ? "text" : type === "bigint" ? "bigint" : "integer";
}
