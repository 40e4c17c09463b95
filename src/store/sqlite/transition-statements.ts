/**
 * The SQLite statements of the state machine, generated from the transitions (named parameters `@name`,
 * bound from the transition's parameter object plus `@id` and, for fenced writes, `@token`).
 */
import { EXECUTION_COLUMNS } from "../../state/columns.js";
import type { Transition } from "../../state/transitions.js";
import { insertLists, setList, statusGuard, updateContext } from "../transition-sql.js";
import { knownOutcome } from "../writes.js";

const sqlite = updateContext("sqlite", (name) => `@${name}`);

/** The columns returned by every transition statement. */
const RETURNED = EXECUTION_COLUMNS;

const cache = new Map<string, string>();

function cached(key: string, build: () => string): string {
  let sql = cache.get(key);
  if (sql === undefined) {
    sql = build();
    cache.set(key, sql);
  }
  return sql;
}

/** Applies a transition to row `@id` if it is in one of the transition's statuses; returns the row after. */
export function transitionSql(transition: Transition): string {
  return cached(
    `t:${transition.name}`,
    () => `UPDATE executions SET ${setList(transition, sqlite)}
    WHERE id = @id AND ${statusGuard(transition, "status")} RETURNING ${RETURNED}`,
  );
}

/**
 * A worker's write: also fenced by the lease token it holds. Returns the row's status and due time after
 * the write (the rest of what its notice and consequences need, the checkpoint carries), unless the
 * transition leaves them unchanged or sets them to constants ({@link knownOutcome}): then it returns
 * nothing: SQLite buffers RETURNING rows even when nobody reads them (decision 036).
 */
export function fencedSql(transition: Transition): string {
  return cached(`f:${transition.name}`, () => {
    const readBack = transition.set.status !== undefined && knownOutcome(transition) === null;
    return `UPDATE executions SET ${setList(transition, sqlite)}
    WHERE id = @id AND status = 'running' AND lease_token = @token${readBack ? " RETURNING status, runnable_at" : ""}`;
  });
}

/**
 * Creates the row unless its idempotency key is held (then it changes nothing). It returns nothing: the row
 * it creates is what its transition makes of its parameters (create.ts).
 */
export function insertSql(transition: Transition): string {
  return cached(`i:${transition.name}`, () => {
    const { columns, values } = insertLists(transition, sqlite);
    return `INSERT INTO executions (${columns}) VALUES (${values})
      ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;
  });
}
