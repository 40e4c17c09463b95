/**
 * Wire types of the schedule routes (`/api/v1/schedules[/:id][/pause|/resume]`). The operations spec
 * fixes a schedule's fields `schedule_id, task, cron, timezone, data, overlap, paused` and says GET
 * shows next fire times; the rest is what `zart-server` answers (src/server/schedule-schemas.ts):
 *
 * - `GET /schedules` → `{ "schedules": [Schedule…] }`, `GET /schedules/:id` → `Schedule`.
 * - `POST /schedules` with {@link CreateScheduleRequest} → 201 `Schedule` (the id is the caller's, so a
 *   repeat is recognisable; a taken id is a 409).
 * - `DELETE /schedules/:id` → 200 `{ "schedule_id", "deleted": true }` (a 204 is accepted too).
 * - `POST /schedules/:id/pause` and `…/resume` → 200 `Schedule` as it is afterwards.
 * - An unknown id → 404 with the contract's error shape (code `schedule_not_found`).
 */

/** What a tick does while the previous tick's execution still runs. */
export type OverlapPolicy = "skip" | "allow" | "buffer_one";

export interface Schedule {
  schedule_id: string;
  task: string;
  /** 5-field (minute first) or 6-field (second first) cron expression. */
  cron: string;
  /** IANA time zone the cron expression is read in (default `UTC`). */
  timezone: string;
  /** The `data` each tick's execution starts with. */
  data: unknown;
  overlap: OverlapPolicy;
  paused: boolean;
  /** The next few fire times, soonest first (RFC 3339); empty while paused. */
  next_fire_times?: string[];
  /** The tick time of the last execution it started, when it has fired. */
  last_fired_at?: string | null;
  /** The execution that tick started. */
  last_execution_id?: string | null;
  /** `buffer_one`: the tick held back until that execution ends. */
  held_tick_at?: string | null;
  /** `code` for a schedule declared with `defineSchedule`, `api` for one created over HTTP. */
  source?: "code" | "api";
  created_at?: string;
  updated_at?: string;
}

export interface ScheduleList {
  schedules: Schedule[];
}

export interface CreateScheduleRequest {
  schedule_id: string;
  task: string;
  cron: string;
  /** Default `UTC`. */
  timezone?: string;
  /** Default `{}`. */
  data?: unknown;
  /** Default `skip`. */
  overlap?: OverlapPolicy;
  /** Create it paused (default false). */
  paused?: boolean;
}

export interface ScheduleDeleted {
  schedule_id: string;
  deleted: true;
}
