/**
 * What the stores keep about cron schedules, and the requests the scheduler makes of them. Stores know
 * nothing about cron: the engine computes every tick time (croner) and hands the store the values to
 * write; the store decides, atomically with the schedule row locked, whether a tick starts an execution
 * (overlap policy), and writes the execution and the schedule's next state in one transaction.
 *
 * Invariants the stores keep:
 * - `nextTickAt` is null while paused (a paused schedule has no due tick) and `heldTickAt` is cleared by
 *   a pause, so nothing of a paused schedule ever fires.
 * - Every change of a schedule's definition or paused state bumps `revision`; a fire or a release carries
 *   the revision (and tick) it was computed from and is refused (`stale`) when either moved on. This is
 *   what makes a tick fire once however many processes race for it: the first commit moves `nextTickAt`,
 *   and every other attempt finds it moved.
 */
import type { OverlapPolicy } from "../core/schedule.js";
import type { ExecutionRecord } from "../core/types.js";
import type { NewExecution } from "./store.js";

export type { OverlapPolicy } from "../core/schedule.js";

/** `code`: declared with `defineSchedule` (kept in line with the code at each start); `api`: created over HTTP or `engine.schedules`. */
export type ScheduleSource = "code" | "api";

export interface ScheduleRecord extends ScheduleDefinitionFields {
  source: ScheduleSource;
  createdAt: number;
  updatedAt: number;
  revision: number;
  /** The next tick to fire; null while paused or when the expression never fires again. */
  nextTickAt: number | null;
  /** The tick of the last execution the schedule started. */
  lastTickAt: number | null;
  /** The execution the last started tick created (what `skip` and `buffer_one` look at). */
  lastExecutionId: string | null;
  /** The tick `buffer_one` holds back until the previous execution ends. */
  heldTickAt: number | null;
  /** For code schedules: the definition as last declared (JSON), to tell a changed declaration from a restart. */
  declaredJson: string | null;
}

/** The fields a schedule is defined by (from the API or from the code). */
export interface ScheduleDefinitionFields {
  scheduleId: string;
  task: string;
  cron: string;
  timezone: string;
  /** The data each tick's execution starts with (JSON object text). */
  dataJson: string;
  overlap: OverlapPolicy;
  paused: boolean;
}

export interface NewSchedule extends ScheduleDefinitionFields {
  source: ScheduleSource;
  /** The first tick (null when created paused). */
  nextTickAt: number | null;
  now: number;
  declaredJson?: string | null;
}

/** Pause (`nextTickAt` null) or resume (`nextTickAt` the next tick from now). A no-op when already so. */
export interface PauseChange {
  scheduleId: string;
  paused: boolean;
  nextTickAt: number | null;
  now: number;
}

/**
 * The schedules one process declares in code (`defineSchedule`), for the tasks it runs. In one
 * transaction: a schedule not stored is inserted; one whose stored declaration differs (or that was an
 * API schedule of the same id) is overwritten, paused state included; one declared as before is left
 * as it is (an operator's pause survives restarts); and a code schedule of one of `tasks` that this
 * process no longer declares is deleted.
 */
export interface CodeScheduleSync {
  /** The tasks whose code schedules this process is the authority on. */
  tasks: readonly string[];
  schedules: readonly (NewSchedule & { declaredJson: string })[];
  now: number;
}

export interface CodeSyncResult {
  created: string[];
  updated: string[];
  /** Declared before as API schedules, now taken over by the code. */
  takenOver: string[];
  removed: string[];
}

/** A schedule with a held tick, and whether the execution it waits for has ended (or is gone). */
export interface HeldTick {
  schedule: ScheduleRecord;
  previousEnded: boolean;
}

export interface ScheduleWork {
  /** Unpaused schedules whose next tick is at or before `now`, soonest first, at most `limit`. */
  due: ScheduleRecord[];
  /** Every schedule holding a tick (few: at most one per `buffer_one` schedule). */
  held: HeldTick[];
  /** The earliest next tick of any schedule, or null. */
  nextTickAt: number | null;
}

/** One tick of a due schedule. */
export interface ScheduleTick {
  scheduleId: string;
  /**
   * The `nextTickAt`, `revision` and `createdAt` this tick was computed from; anything else makes it
   * `stale` (`createdAt`: a schedule deleted and created again under its id is another schedule).
   */
  dueAt: number;
  revision: number;
  createdAt: number;
  /** The tick the execution stands for (in its idempotency key): the latest tick not after now. */
  tickAt: number;
  /** The schedule's `nextTickAt` afterwards. */
  nextTickAt: number | null;
  /** The execution to start; null when it cannot be built (its task is gone, its data no longer valid). */
  execution: NewExecution | null;
}

/** Starts the held tick's execution once the previous one has ended (null: it cannot be built, drop the tick). */
export interface HeldTickRelease {
  scheduleId: string;
  heldTickAt: number;
  /** As for a tick ({@link ScheduleTick}). */
  revision: number;
  createdAt: number;
  execution: NewExecution | null;
}

/**
 * `started`: the execution is stored (`created` false when its idempotency key already held one);
 * `skipped`: `skip` (or `buffer_one` with a tick already held) while the previous runs; `held`: kept for
 * when the previous ends; `failed`: no execution could be built, the tick passes; `not_ready`: a release
 * found the previous still running; `stale`: another process (or a change) got there first.
 */
export type TickResult =
  | { outcome: "started"; execution: ExecutionRecord; created: boolean }
  | { outcome: "held"; previousExecutionId: string }
  | { outcome: "skipped" | "failed" | "not_ready" | "stale" };
