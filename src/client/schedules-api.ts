/** `client.schedules`: the cron schedules under `/api/v1/schedules` (shapes in schedule-types.ts). */
import type { CreateScheduleRequest, Schedule, ScheduleDeleted, ScheduleList } from "./schedule-types.js";
import { type HttpTransport, segment } from "./transport.js";

export class SchedulesApi {
  constructor(private readonly http: HttpTransport) {}

  list(): Promise<ScheduleList> {
    return this.http.call("GET", "/schedules");
  }

  async get(scheduleId: string): Promise<Schedule> {
    return this.http.call("GET", `/schedules/${segment(scheduleId)}`);
  }

  create(request: CreateScheduleRequest): Promise<Schedule> {
    return this.http.call("POST", "/schedules", JSON.stringify(request));
  }

  /** Resolves with `{ schedule_id, deleted: true }` (built here when the server answers 204). */
  async delete(scheduleId: string): Promise<ScheduleDeleted> {
    const answer = await this.http.call<ScheduleDeleted | undefined>("DELETE", `/schedules/${segment(scheduleId)}`);
    return answer ?? { schedule_id: scheduleId, deleted: true };
  }

  /** Stops its ticks until resumed; resolves with the schedule as it is afterwards. */
  async pause(scheduleId: string): Promise<Schedule> {
    return this.http.call("POST", `/schedules/${segment(scheduleId)}/pause`);
  }

  async resume(scheduleId: string): Promise<Schedule> {
    return this.http.call("POST", `/schedules/${segment(scheduleId)}/resume`);
  }
}
