/**
 * The engine's operations on executions beyond the contract (operations.md §1-§2): the step timeline,
 * the task and worker lists, retry in place and rerun as a new execution. `Engine` delegates here.
 */
import type { Clock } from "../core/clock.js";
import { ZartError } from "../core/errors.js";
import { isStorableText, STORABLE_TEXT_RULE } from "../core/stored-text.js";
import type { ExecutionRecord } from "../core/types.js";
import type { TaskSummary, WorkerRecord } from "../store/operations.js";
import type { NewExecution, Store } from "../store/store.js";
import type { RerunRequest, ScheduleRequest, ScheduleResult } from "./api.js";
import { executionNotFound, isExecutionId } from "./execution-id.js";
import type { TerminalCache } from "./terminal-cache.js";
import { buildTimeline, type Timeline } from "./timeline.js";

export interface OperationsDeps {
  store: Store;
  clock: Clock;
  terminal: TerminalCache;
  /** The execution (from memory when terminal and cached). Throws execution_not_found. */
  get(id: string): Promise<ExecutionRecord>;
  /** A new execution's row for the request, checked exactly like a POST's (task known, data valid). */
  prepare(request: ScheduleRequest): Promise<NewExecution>;
  onScheduled(task: string, executionId: string): void;
}

export class ExecutionOperations {
  constructor(private readonly deps: OperationsDeps) {}

  async steps(id: string): Promise<Timeline> {
    const data = isExecutionId(id) ? await this.deps.store.getTimeline(id) : null;
    if (!data) throw executionNotFound(id);
    return buildTimeline(data);
  }

  taskList(): Promise<TaskSummary[]> {
    return this.deps.store.listTasks(this.deps.clock.now());
  }

  workers(): Promise<WorkerRecord[]> {
    return this.deps.store.listWorkers(this.deps.clock.now());
  }

  async retry(id: string): Promise<ExecutionRecord> {
    if (!isExecutionId(id)) throw executionNotFound(id);
    const result = await this.deps.store.resumeExecution(id, this.deps.clock.now());
    if (result.outcome === "not_found") throw executionNotFound(id);
    if (result.outcome === "not_retryable") {
      throw new ZartError(
        "execution_not_retryable",
        `Execution ${id} is ${result.execution.status} and cannot be retried (only failed or cancelled executions can)`,
      );
    }
    // The store's `resumed` notice does this for every engine on the store; here it happens before we answer.
    this.deps.terminal.forget(id);
    return result.execution;
  }

  async rerun(id: string, request: RerunRequest): Promise<ScheduleResult> {
    const source = await this.deps.get(id);
    const fromStep = request.fromStep ?? null;
    if (fromStep !== null && (typeof fromStep !== "string" || fromStep.length === 0 || !isStorableText(fromStep))) {
      throw new ZartError("invalid_request", `from_step must be a step name: a non-empty string ${STORABLE_TEXT_RULE}`);
    }
    const sameData = request.data === undefined;
    const prepared = await this.deps.prepare({
      task: source.task,
      data: sameData ? JSON.parse(source.dataJson) : request.data,
      idempotencyKey: request.idempotencyKey,
      priority: source.priority,
      // With the old data, the old concurrency group: the key may have been given by the source's request
      // (an override, or a server that cannot run the key function), not computed from the data.
      ...(sameData && source.concurrencyKey !== null ? { concurrencyKey: source.concurrencyKey } : {}),
    });
    const outcome = await this.deps.store.rerunExecution({ ...prepared, rerunOf: source.id }, fromStep);
    if (outcome.outcome === "not_found") throw executionNotFound(id);
    if (outcome.outcome === "unknown_step") {
      throw new ZartError("invalid_request", `Execution ${id} never reached a step named ${JSON.stringify(fromStep)}`);
    }
    const { execution, created } = outcome.result;
    if (!created && execution.task !== source.task) {
      throw new ZartError(
        "execution_already_exists",
        `Idempotency key "${request.idempotencyKey}" is already used by an execution of task "${execution.task}"`,
      );
    }
    if (created) this.deps.onScheduled(execution.task, execution.id);
    return outcome.result;
  }
}
