/**
 * How a request becomes a new execution row: checked (requests.ts), admitted by the task directory (task
 * known here or registered by a worker, data valid against its input schema, its concurrency limit), and
 * given an id. The same path serves `schedule`, `scheduleMany`, reruns and child executions.
 */
import type { Clock } from "../core/clock.js";
import type { NewExecution } from "../store/store.js";
import type { ChildRequest } from "../worker/context-deps.js";
import type { ScheduleRequest } from "./api.js";
import { newExecutionId } from "./execution-id.js";
import { type CheckedSchedule, checkedSchedule } from "./requests.js";
import type { TaskDirectory } from "./task-directory.js";

export class Admission {
  constructor(
    private readonly directory: TaskDirectory,
    private readonly clock: Clock,
    private readonly maxPayloadBytes: number,
  ) {}

  async check(request: ScheduleRequest): Promise<CheckedSchedule> {
    const checked = checkedSchedule(request, this.maxPayloadBytes);
    const admitted = await this.directory.admit(checked.task, checked.data, checked.concurrencyKey);
    return { ...checked, ...admitted };
  }

  newExecution(checked: CheckedSchedule, now: number): NewExecution {
    const { task, dataJson, idempotencyKey, startAt, priority, concurrency, traceparent } = checked;
    return { id: newExecutionId(now), task, dataJson, idempotencyKey, now, startAt, priority, concurrency, traceparent };
  }

  /** A child execution's row, checked like a POST (task known, data valid). */
  async child(request: ChildRequest): Promise<NewExecution> {
    const task = typeof request.task === "string" ? request.task : request.task.name;
    const { options } = request;
    const startAt = options.startAt === undefined ? undefined : isoTime(options.startAt);
    const checked = await this.check({
      task,
      data: request.data,
      priority: options.priority,
      startAt,
      concurrencyKey: options.concurrencyKey,
    });
    const child = this.newExecution(checked, this.clock.now());
    return { ...child, parent: { ...request.parent, cancelWithParent: options.detached !== true } };
  }
}

/** A Date or epoch milliseconds as RFC 3339 text; a time Date cannot hold as given, for the checks to refuse by name. */
function isoTime(at: Date | number): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? String(at) : date.toISOString();
}
