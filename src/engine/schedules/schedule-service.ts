/**
 * `engine.schedules`: schedules over the API (create, read, delete, pause, resume), the schedules a
 * process declares in code (synced at start), and what a tick's execution is made of. Every request is
 * checked like a POST of an execution: the schedule's own fields, then the task, then the data against
 * the task's input schema; the cron expression must fire at least once (5 or 6 fields) in a known IANA
 * time zone. Ticks themselves are the {@link ScheduleTicker}'s.
 */
import type { Clock } from "../../core/clock.js";
import { compileCron } from "../../core/cron.js";
import { ZartError } from "../../core/errors.js";
import { encodeJson } from "../../core/json.js";
import type { Logger } from "../../core/logger.js";
import { type ScheduleDefinition, scheduleFieldsProblem, scheduleFieldsWithDefaults, scheduleIdProblem } from "../../core/schedule.js";
import type { NewSchedule, ScheduleRecord, ScheduleSource } from "../../store/schedule-records.js";
import type { NewExecution, Store } from "../../store/store.js";
import { newExecutionId } from "../execution-id.js";
import type { TaskDirectory } from "../task-directory.js";
import type { CreateScheduleRequest, ScheduleApi, ScheduleInfo } from "./schedule-api.js";

/** How many next fire times a schedule shows. */
const SHOWN_FIRE_TIMES = 5;

export interface ScheduleServiceDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  directory: TaskDirectory;
  maxPayloadBytes: number;
  /** A schedule was created or resumed here: look at the ticks again now, not at the next poll. */
  changed(): void;
}

/** The idempotency key of a tick's execution: one execution per schedule and tick, whoever fires it. */
function tickKey(scheduleId: string, tickAt: number): string {
  return `schedule:${scheduleId}:${new Date(tickAt).toISOString()}`;
}

export class ScheduleService implements ScheduleApi {
  constructor(private readonly deps: ScheduleServiceDeps) {}

  async create(request: CreateScheduleRequest): Promise<ScheduleInfo> {
    const schedule = await this.checked(request, "api");
    const created = await this.deps.store.createSchedule(schedule);
    if (!created) throw new ZartError("schedule_already_exists", `A schedule with ID ${schedule.scheduleId} already exists`);
    this.deps.changed();
    return this.info(created);
  }

  async list(): Promise<ScheduleInfo[]> {
    return (await this.deps.store.listSchedules()).map((s) => this.info(s));
  }

  async get(scheduleId: string): Promise<ScheduleInfo> {
    return this.info(this.found(scheduleId, scheduleIdProblem(scheduleId) ? null : await this.deps.store.getSchedule(scheduleId)));
  }

  async delete(scheduleId: string): Promise<void> {
    const deleted = scheduleIdProblem(scheduleId) === null && (await this.deps.store.deleteSchedule(scheduleId));
    if (!deleted) throw notFound(scheduleId);
  }

  async pause(scheduleId: string): Promise<ScheduleInfo> {
    return this.setPaused(scheduleId, true);
  }

  async resume(scheduleId: string): Promise<ScheduleInfo> {
    return this.setPaused(scheduleId, false);
  }

  private async setPaused(scheduleId: string, paused: boolean): Promise<ScheduleInfo> {
    const current = this.found(scheduleId, scheduleIdProblem(scheduleId) ? null : await this.deps.store.getSchedule(scheduleId));
    if (current.paused === paused) return this.info(current);
    const now = this.deps.clock.now();
    const nextTickAt = paused ? null : compileCron(current.cron, current.timezone).nextAfter(now);
    const changed = this.found(scheduleId, await this.deps.store.setSchedulePaused({ scheduleId, paused, nextTickAt, now }));
    if (!paused) this.deps.changed();
    return this.info(changed);
  }

  /**
   * Stores the schedules this process declares in code, for the tasks it runs (`tasks`): new ones are
   * added, changed declarations applied, unchanged ones left as they are (an operator's pause stays), and
   * code schedules of these tasks that the code no longer declares are deleted. Throws on a definition
   * this process cannot run (its task is not one of `tasks`, or its data fails the task's input schema).
   */
  async syncCode(definitions: readonly ScheduleDefinition[], tasks: readonly string[]): Promise<void> {
    const now = this.deps.clock.now();
    const schedules: (NewSchedule & { declaredJson: string })[] = [];
    for (const definition of definitions) {
      if (!tasks.includes(definition.task)) {
        throw new Error(`Schedule "${definition.schedule_id}" starts task "${definition.task}", which this process does not run`);
      }
      let schedule: NewSchedule;
      try {
        schedule = await this.checked(definition, "code");
      } catch (error) {
        throw new Error(`Schedule "${definition.schedule_id}": ${(error as Error).message}`);
      }
      const { task, cron, timezone, data, overlap, paused } = definition;
      schedules.push({ ...schedule, declaredJson: JSON.stringify({ task, cron, timezone, data, overlap, paused }) });
    }
    const result = await this.deps.store.syncCodeSchedules({ tasks, schedules, now });
    const changes = Object.entries(result).filter(([, ids]) => ids.length > 0);
    if (changes.length > 0) this.deps.logger.info(Object.fromEntries(changes), "code schedules synced");
    if (result.takenOver.length > 0) {
      this.deps.logger.warn(
        { scheduleIds: result.takenOver },
        "schedules created over the API were replaced by defineSchedule declarations of the same id",
      );
    }
    this.deps.changed();
  }

  /**
   * Whether this process fires `schedule`'s ticks: not when its task's concurrency key comes from a function
   * only the task's own processes have (the execution would land in the task-wide group); they fire it.
   */
  async firesHere(schedule: ScheduleRecord): Promise<boolean> {
    return !(await this.deps.directory.keyedElsewhere(schedule.task));
  }

  /**
   * The execution a tick starts, checked like a POST (the task may have changed since the schedule was
   * made); null when it can no longer start (task unknown, data no longer valid), which is logged.
   */
  async tickExecution(schedule: ScheduleRecord, tickAt: number, now: number): Promise<NewExecution | null> {
    try {
      const admitted = await this.deps.directory.admit(schedule.task, JSON.parse(schedule.dataJson));
      return {
        id: newExecutionId(now),
        task: schedule.task,
        dataJson: schedule.dataJson,
        idempotencyKey: tickKey(schedule.scheduleId, tickAt),
        now,
        scheduleId: schedule.scheduleId,
        ...admitted,
      };
    } catch (error) {
      const code = (error as ZartError).code;
      if (!(error instanceof ZartError) || (code !== "task_not_registered" && code !== "invalid_data")) throw error;
      this.deps.logger.warn(
        { scheduleId: schedule.scheduleId, task: schedule.task, tick: new Date(tickAt).toISOString(), err: error },
        "a schedule's tick cannot start its task; the tick is dropped",
      );
      return null;
    }
  }

  info(schedule: ScheduleRecord): ScheduleInfo {
    return { ...schedule, nextFireTimes: nextFireTimes(schedule, this.deps.clock.now()) };
  }

  private async checked(request: CreateScheduleRequest | ScheduleDefinition, source: ScheduleSource): Promise<NewSchedule> {
    const fields = scheduleFieldsWithDefaults(request);
    const problem = scheduleFieldsProblem(fields);
    if (problem) throw new ZartError("invalid_data", problem);
    if (typeof request.task !== "string" || request.task.length === 0)
      throw new ZartError("invalid_data", "task must be a non-empty string");
    let dataJson: string;
    try {
      dataJson = encodeJson(fields.data, "data", this.deps.maxPayloadBytes);
    } catch (error) {
      const code = (error as { code?: string }).code === "payload_too_large" ? "payload_too_large" : "invalid_data";
      throw new ZartError(code, (error as Error).message);
    }
    await this.deps.directory.admit(request.task, fields.data);
    const now = this.deps.clock.now();
    return {
      scheduleId: fields.schedule_id,
      task: request.task,
      cron: fields.cron,
      timezone: fields.timezone,
      dataJson,
      overlap: fields.overlap,
      paused: fields.paused,
      source,
      nextTickAt: fields.paused ? null : compileCron(fields.cron, fields.timezone).nextAfter(now),
      now,
    };
  }

  private found(scheduleId: string, schedule: ScheduleRecord | null): ScheduleRecord {
    if (!schedule) throw notFound(scheduleId);
    return schedule;
  }
}

/**
 * The next tick and the ones after it, in the schedule's time zone; none while paused. An overdue tick (no
 * process fired it yet) fires once, as the latest tick at or before now (the ticker's catch-up): that one is
 * shown first, then the ticks after now, not the missed ones between, which never fire.
 */
function nextFireTimes(schedule: ScheduleRecord, now: number): number[] {
  const { nextTickAt } = schedule;
  if (schedule.paused || nextTickAt === null) return [];
  try {
    const rule = compileCron(schedule.cron, schedule.timezone);
    const first = nextTickAt >= now ? nextTickAt : Math.max(nextTickAt, rule.latestAtOrBefore(now) ?? nextTickAt);
    return [first, ...rule.nextTimes(SHOWN_FIRE_TIMES - 1, Math.max(first, now))];
  } catch {
    // A stored expression this croner no longer reads: the schedule shows no times (its ticks log why).
    return [];
  }
}

function notFound(scheduleId: string): ZartError {
  return new ZartError("schedule_not_found", `No schedule found with ID ${scheduleId.slice(0, 200)}`);
}
