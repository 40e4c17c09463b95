/**
 * The schedules part of the engine API (`engine.schedules`), which the HTTP routes under
 * `/api/v1/schedules` call. Requests use the wire's field names, so a schedule reads the same in code
 * (`defineSchedule`), in a request body and here.
 */
import type { OverlapPolicy } from "../../core/schedule.js";
import type { ScheduleRecord } from "../../store/schedule-records.js";

export interface CreateScheduleRequest {
  schedule_id: string;
  task: string;
  cron: string;
  /** IANA time zone; default `UTC`. */
  timezone?: string;
  /** A JSON object, checked against the task's input schema like a POST; default `{}`. */
  data?: unknown;
  /** Default `skip`. */
  overlap?: OverlapPolicy;
  /** Create it paused; default false. */
  paused?: boolean;
}

export interface ScheduleInfo extends ScheduleRecord {
  /** The next fire times (up to five), soonest first; empty while paused. */
  nextFireTimes: number[];
}

export interface ScheduleApi {
  /** Throws invalid_data, payload_too_large, task_not_registered, schedule_already_exists. */
  create(request: CreateScheduleRequest): Promise<ScheduleInfo>;
  list(): Promise<ScheduleInfo[]>;
  /** Throws schedule_not_found (also for the rest). */
  get(scheduleId: string): Promise<ScheduleInfo>;
  delete(scheduleId: string): Promise<void>;
  /** Idempotent: pausing a paused schedule answers it as it is. */
  pause(scheduleId: string): Promise<ScheduleInfo>;
  /** Idempotent. The next tick is the first one after now: ticks that fell while paused never fire. */
  resume(scheduleId: string): Promise<ScheduleInfo>;
}
