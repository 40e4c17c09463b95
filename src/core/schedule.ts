/**
 * Cron schedules declared in code. A schedule has the same fields in code as over HTTP
 * (`POST /api/v1/schedules`), so one can be copied to the other:
 *
 * ```ts
 * export const nightlyReport = defineSchedule({
 *   schedule_id: "nightly-report",
 *   task: report, // a task definition, or its name
 *   cron: "0 3 * * *",
 *   timezone: "Europe/Berlin",
 *   data: { format: "pdf" },
 *   overlap: "skip",
 * });
 * ```
 *
 * Export it from a task module (the CLI loads it with the tasks) or pass it to `Engine.start({ schedules })`.
 * What can be checked without a store is checked here (id, cron, time zone, overlap, data is an object);
 * the engine checks the task and the data against the task's input schema when it starts.
 */

import { compileCron, timezoneProblem } from "./cron.js";
import { refuseUnknownKeys } from "./option-keys.js";
import type { TaskDefinition } from "./task.js";

export type OverlapPolicy = "skip" | "allow" | "buffer_one";

export interface ScheduleOptions {
  /** The schedule's id: 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit. */
  schedule_id: string;
  /** The task each tick starts: a task definition or a task name. */
  // biome-ignore lint/suspicious/noExplicitAny: any task definition, whatever its input and output types.
  task: string | TaskDefinition<any, any>;
  /** 5 fields (minute first) or 6 (second first), e.g. `"0 3 * * *"`. */
  cron: string;
  /** IANA time zone the expression is read in. Default `"UTC"`. */
  timezone?: string;
  /** The data each tick's execution starts with (a JSON object). Default `{}`. */
  data?: Record<string, unknown>;
  /**
   * While the previous tick's execution has not ended: `skip` the tick (default), `allow` it to start
   * anyway, or `buffer_one`: hold one tick and start it when the previous execution ends.
   */
  overlap?: OverlapPolicy;
  /** Declared paused: no ticks until resumed. Default false. */
  paused?: boolean;
}

export interface ScheduleDefinition {
  readonly kind: "zart.schedule";
  readonly schedule_id: string;
  readonly task: string;
  readonly cron: string;
  readonly timezone: string;
  readonly data: Record<string, unknown>;
  readonly overlap: OverlapPolicy;
  readonly paused: boolean;
}

export const OVERLAP_VALUES: readonly OverlapPolicy[] = ["skip", "allow", "buffer_one"];
const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const MAX_CRON_LENGTH = 256;

/** The reason a schedule id is unusable, or null. */
export function scheduleIdProblem(id: unknown): string | null {
  if (typeof id === "string" && SCHEDULE_ID.test(id)) return null;
  return 'schedule_id must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit';
}

/**
 * The reason a cron expression cannot be used in `timezone`, or null. Without a year field an expression
 * that fires at all fires every year (or every leap year), so "never fires" is asked from the epoch.
 */
function cronProblem(cron: unknown, timezone: string): string | null {
  if (typeof cron !== "string" || cron.trim().length === 0 || cron.length > MAX_CRON_LENGTH) {
    return `cron must be a cron expression of 5 or 6 fields (at most ${MAX_CRON_LENGTH} characters)`;
  }
  // croner reads any text with a ":" as a one-off date ("2030-01-01T00:00:00Z", even "1 2:3"), which is no
  // cron expression: it would fire once at most (a date already past: never), past the "never fires" check.
  if (cron.includes(":")) return `cron "${cron}" is not valid: a cron expression has 5 or 6 fields and no ":" (a date is not one)`;
  try {
    if (compileCron(cron, timezone).nextAfter(0) === null) return `cron "${cron}" never fires`;
    return null;
  } catch (error) {
    return `cron "${cron}" is not valid: ${(error as Error).message.replace(/^CronPattern: /, "")}`;
  }
}

/** The first problem of a schedule's own fields (everything but the task's existence and input schema), or null. */
export function scheduleFieldsProblem(fields: {
  schedule_id: unknown;
  cron: unknown;
  timezone: unknown;
  data: unknown;
  overlap: unknown;
  paused: unknown;
}): string | null {
  const timezone = fields.timezone;
  return (
    scheduleIdProblem(fields.schedule_id) ??
    timezoneProblem(timezone) ??
    cronProblem(fields.cron, timezone as string) ??
    (typeof fields.data === "object" && fields.data !== null && !Array.isArray(fields.data) ? null : "data must be a JSON object") ??
    (OVERLAP_VALUES.includes(fields.overlap as OverlapPolicy) ? null : `overlap must be one of ${OVERLAP_VALUES.join(", ")}`) ??
    (typeof fields.paused === "boolean" ? null : "paused must be a boolean")
  );
}

/** A schedule's own fields with every optional one defaulted: UTC, empty data, overlap `skip`, not paused. */
export function scheduleFieldsWithDefaults<D>(fields: {
  schedule_id: string;
  cron: string;
  timezone?: string;
  data?: D;
  overlap?: OverlapPolicy;
  paused?: boolean;
}): { schedule_id: string; cron: string; timezone: string; data: D | Record<string, never>; overlap: OverlapPolicy; paused: boolean } {
  return {
    schedule_id: fields.schedule_id,
    cron: fields.cron,
    timezone: fields.timezone ?? "UTC",
    data: fields.data ?? {},
    overlap: fields.overlap ?? "skip",
    paused: fields.paused ?? false,
  };
}

const SCHEDULE_OPTIONS: ReadonlySet<string> = new Set(["schedule_id", "task", "cron", "timezone", "data", "overlap", "paused"]);

export function defineSchedule(options: ScheduleOptions): ScheduleDefinition {
  refuseUnknownKeys(options, SCHEDULE_OPTIONS, `Schedule "${options.schedule_id}": options`);
  const task = typeof options.task === "string" ? options.task : options.task?.name;
  if (typeof task !== "string" || task.length === 0) {
    throw new TypeError(`Schedule "${options.schedule_id}": task must be a task definition or a task name`);
  }
  const { schedule_id, cron, timezone, data, overlap, paused } = scheduleFieldsWithDefaults(options);
  const definition: ScheduleDefinition = { kind: "zart.schedule", schedule_id, task, cron, timezone, data, overlap, paused };
  const problem = scheduleFieldsProblem(definition);
  if (problem) throw new TypeError(`Schedule "${options.schedule_id}": ${problem}`);
  return Object.freeze(definition);
}

export function isScheduleDefinition(value: unknown): value is ScheduleDefinition {
  return typeof value === "object" && value !== null && (value as ScheduleDefinition).kind === "zart.schedule";
}
