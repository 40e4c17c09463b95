/**
 * The execution state machine, each transition defined once, as data: the statuses it applies to, the
 * parameters it takes, and what it writes into each column. Everything else derives from this table:
 * the pure `applyTransition` (apply.ts) that the worker uses for its in-memory records, the SQL both
 * stores run (src/store/transition-sql.ts, src/store/sqlite/transition-statements.ts,
 * src/store/postgres/transition-sql.ts), and the behaviour-suite test that compares every stored row with
 * the pure result. To add a transition: add an entry here, give it a `WorkerPatch` or a store method that
 * sends it, and add a case to test/support/store-behaviour-transitions.ts. Writes that apply two
 * transitions as one statement (an eager start, an eager resume) are composed from these in composites.ts.
 *
 * Every expression reads the row as it was before the transition (SQL's UPDATE semantics).
 * Times are epoch milliseconds; `$now` is the writer's clock (on PostgreSQL, corrected to the database's
 * clock, see docs/engine.md "Clocks").
 */
import type { ExecutionStatus } from "../core/types.js";
import { type ColumnType, EXECUTION_COLUMN_TYPES, type ExecutionColumn } from "./columns.js";
import { add, and, coalesce, col, type Expr, eq, isSet, le, lit, max, param, present, sub, when } from "./expr.js";

export interface Transition {
  readonly name: string;
  /** Statuses the row must be in; `insert` for transitions that create the row. */
  readonly from: readonly ExecutionStatus[] | "insert";
  /** Parameters and the column type each feeds (for casts and JSON decoding). */
  readonly params: Readonly<Record<string, ColumnType>>;
  readonly set: Readonly<Partial<Record<ExecutionColumn, Expr>>>;
}

const NOW = param("now");
const isWaiting = eq(col("status"), lit("waiting"));
const isRunning = eq(col("status"), lit("running"));

/** Parameters every fenced write of a running execution carries (see the worker transitions). */
const WORKER_PARAMS = { now: "bigint", steps_completed: "int", crashes: "int", consumed: "int" } as const;
const workerColumns = {
  steps_completed: param("steps_completed"),
  crashes: param("crashes"),
  buffered_events: sub(col("buffered_events"), param("consumed")),
  updated_at: NOW,
} as const;

/** The row leaves `running`: nobody holds it, nothing waits to be reported to a run. */
const unheld = { lease_owner: lit(null), wake_requested: lit(0) } as const;
/** Back in the queue at `run_at`, unheld: `pending` once due, `waiting` until then; no step in progress. */
const requeued = {
  ...unheld,
  status: when(le(param("run_at"), NOW), lit("pending"), lit("waiting")),
  runnable_at: param("run_at"),
  current_step: lit(null),
  waiting_for_event: lit(null),
} as const;
/** A row that ends: no wake-up, no step in progress. */
const ended = { ...unheld, completed_at: NOW, runnable_at: lit(null), current_step: lit(null), waiting_for_event: lit(null) } as const;

export const TRANSITIONS = {
  /** A new execution, queued (`pending`, due at `run_at`: its creation time or its delayed start). */
  create: {
    name: "create",
    from: "insert",
    params: {
      id: "text",
      task: "text",
      data: "text",
      idempotency_key: "text",
      now: "bigint",
      run_at: "bigint",
      start_at: "bigint",
      priority: "int",
      concurrency_key: "text",
      concurrency_limit: "int",
      parent_id: "text",
      parent_step: "text",
      cancel_with_parent: "flag",
      rerun_of: "text",
      schedule_id: "text",
      traceparent: "text",
    },
    set: {
      id: param("id"),
      task: param("task"),
      status: lit("pending"),
      data: param("data"),
      idempotency_key: param("idempotency_key"),
      created_at: NOW,
      updated_at: NOW,
      runnable_at: param("run_at"),
      start_at: param("start_at"),
      priority: param("priority"),
      concurrency_key: param("concurrency_key"),
      concurrency_limit: param("concurrency_limit"),
      parent_id: param("parent_id"),
      parent_step: param("parent_step"),
      cancel_with_parent: param("cancel_with_parent"),
      rerun_of: param("rerun_of"),
      schedule_id: param("schedule_id"),
      traceparent: param("traceparent"),
    },
  },

  /**
   * A worker takes a due row (`runnable_at <= now`): new work, an ended sleep or backoff, or a `running`
   * row whose lease expired. The last counts as a crash when a step was in flight (`current_step` set):
   * the worker that held it died during that step. The claim clears `current_step`, so it names only a
   * step begun under this lease: a row held but not yet running a step (a prefetched one, one replaying
   * its records, one waiting its turn behind a suspect, worker/slots.ts) is recovered without counting,
   * however often its holders die.
   */
  claim: {
    name: "claim",
    from: ["pending", "waiting", "running"],
    params: { now: "bigint", worker: "text", lease_ms: "bigint" },
    set: {
      status: lit("running"),
      lease_token: add(col("lease_token"), lit(1)),
      lease_owner: param("worker"),
      runnable_at: add(NOW, param("lease_ms")),
      started_at: coalesce(col("started_at"), NOW),
      timeout_from: coalesce(col("timeout_from"), NOW),
      attempt: max(col("attempt"), lit(1)),
      crashes: when(and(isRunning, present(col("current_step"))), add(col("crashes"), lit(1)), col("crashes")),
      current_step: lit(null),
      wake_requested: lit(0),
      updated_at: NOW,
    },
  },

  /** A claim found the row's concurrency group full: it waits, off the claim index, for a freed slot. */
  await_slot: {
    name: "await_slot",
    from: ["pending", "waiting"],
    params: { now: "bigint" },
    set: { status: lit("pending"), runnable_at: lit(null), current_step: lit(null), waiting_for_event: lit(null), updated_at: NOW },
  },

  /**
   * A worker whose claim failed without an answer (a lost connection) gives back any row leased to it that
   * it does not hold: the claim may have committed, and the row would otherwise wait out its lease.
   */
  expire_lease: {
    name: "expire_lease",
    from: ["running"],
    params: { now: "bigint" },
    set: { runnable_at: NOW, updated_at: NOW },
  },

  /**
   * A slot of its group freed: the oldest waiting row of the group becomes due, at its creation time. Due
   * order is claim order, so a claim that also finds a younger row of the group, due since its own creation,
   * reaches the granted row first and the slot goes to it (docs/concurrency.md, "in order").
   */
  grant_slot: {
    name: "grant_slot",
    from: ["pending"],
    params: { now: "bigint" },
    set: { runnable_at: col("created_at"), updated_at: NOW },
  },

  /** Still running: a step started or a record was written. Touches no indexed column (HOT on PostgreSQL). */
  progress: {
    name: "progress",
    from: ["running"],
    params: { ...WORKER_PARAMS, current_step: "text" },
    set: { ...workerColumns, current_step: param("current_step") },
  },

  /**
   * The run parked on sleeps, event waits, child waits or a long backoff. If something arrived for it
   * while it ran (`wake_requested`: an event for an open wait, a child that ended, a buffered event), it
   * goes straight back to the queue instead of sleeping through it.
   */
  park: {
    name: "park",
    from: ["running"],
    params: { ...WORKER_PARAMS, current_step: "text", waiting_for_event: "text", wake_at: "bigint" },
    set: {
      ...workerColumns,
      ...unheld,
      status: when(isSet(col("wake_requested")), lit("pending"), lit("waiting")),
      current_step: when(isSet(col("wake_requested")), lit(null), param("current_step")),
      waiting_for_event: when(isSet(col("wake_requested")), lit(null), param("waiting_for_event")),
      runnable_at: when(isSet(col("wake_requested")), NOW, param("wake_at")),
    },
  },

  /** Back to the queue at `run_at` (graceful shutdown, prefetched rows handed back): `pending`, or `waiting` until then. */
  release: {
    name: "release",
    from: ["running"],
    params: { ...WORKER_PARAMS, run_at: "bigint" },
    set: { ...workerColumns, ...requeued },
  },

  /** Task-level retry after an error escaped `run()`: the next attempt, at `run_at`. */
  retry: {
    name: "retry",
    from: ["running"],
    params: { ...WORKER_PARAMS, run_at: "bigint", attempt: "int" },
    set: { ...workerColumns, ...requeued, attempt: param("attempt"), error: lit(null) },
  },

  complete: {
    name: "complete",
    from: ["running"],
    params: { ...WORKER_PARAMS, output: "text" },
    set: { ...workerColumns, ...ended, status: lit("completed"), output: param("output") },
  },

  fail: {
    name: "fail",
    from: ["running"],
    params: { ...WORKER_PARAMS, error: "text" },
    set: { ...workerColumns, ...ended, status: lit("failed"), error: param("error") },
  },

  cancel: {
    name: "cancel",
    from: ["pending", "running", "waiting"],
    params: { now: "bigint" },
    set: { ...ended, status: lit("cancelled"), updated_at: NOW },
  },

  /**
   * A result arrived for one of the execution's open waits: an event for a `waitForEvent`, or the end of
   * a child for a `runChild`. A waiting execution becomes runnable now; a running one is told through
   * `wake_requested` (its next park requeues it instead); a pending one is already queued.
   */
  deliver: {
    name: "deliver",
    from: ["pending", "running", "waiting"],
    params: { now: "bigint" },
    set: {
      status: when(isWaiting, lit("pending"), col("status")),
      runnable_at: when(isWaiting, NOW, col("runnable_at")),
      current_step: when(isWaiting, lit(null), col("current_step")),
      waiting_for_event: when(isWaiting, lit(null), col("waiting_for_event")),
      wake_requested: when(isRunning, lit(1), col("wake_requested")),
      steps_completed: add(col("steps_completed"), lit(1)),
      updated_at: NOW,
    },
  },

  /** An event stored for a later wait (tasks with `events: "buffered"`); a running execution is told. */
  buffer_event: {
    name: "buffer_event",
    from: ["pending", "running", "waiting"],
    params: { now: "bigint" },
    set: {
      buffered_events: add(col("buffered_events"), lit(1)),
      wake_requested: when(isRunning, lit(1), col("wake_requested")),
      updated_at: NOW,
    },
  },

  /**
   * An operator resumes a failed or cancelled execution in place: the next attempt, queued now, its
   * timeout counted afresh from its next start.
   */
  resume: {
    name: "resume",
    from: ["failed", "cancelled"],
    params: { now: "bigint" },
    set: {
      status: lit("pending"),
      attempt: add(col("attempt"), lit(1)),
      error: lit(null),
      output: lit(null),
      completed_at: lit(null),
      runnable_at: NOW,
      current_step: lit(null),
      waiting_for_event: lit(null),
      lease_owner: lit(null),
      crashes: lit(0),
      timeout_from: lit(null),
      wake_requested: lit(0),
      updated_at: NOW,
    },
  },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;

/** Columns a transition writes, in schema order. */
export function columnsOf(transition: Transition): ExecutionColumn[] {
  return (Object.keys(EXECUTION_COLUMN_TYPES) as ExecutionColumn[]).filter((c) => transition.set[c] !== undefined);
}

/** Whether the transition records a run's end: it sets the status to completed or failed (a cancel is no run's end). */
export function endsRun(transition: Transition): boolean {
  const status = transition.set.status;
  return status?.op === "lit" && (status.value === "completed" || status.value === "failed");
}
