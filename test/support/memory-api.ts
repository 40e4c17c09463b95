/**
 * A small in-memory ZartApi for developing route logic without the engine. Final tests run the real
 * server process; this is only for quick `app.inject()` checks of the HTTP layer.
 */
import { randomBytes } from "node:crypto";
import { ZartError } from "../../src/core/errors.js";
import { checkJsonSchema } from "../../src/core/schema.js";
import { type ExecutionRecord, emptyCounts, isTerminal, type StatusCounts } from "../../src/core/types.js";
import type { PruneOptions, RerunRequest, ScheduleRequest, ScheduleResult, TaskInfo, WaitSignal, ZartApi } from "../../src/engine/api.js";
import { watchThroughWait } from "../../src/engine/api.js";
import { pruneAge } from "../../src/engine/pruning.js";
import type { Timeline } from "../../src/engine/timeline.js";
import { applyTransition } from "../../src/state/apply.js";
import { TRANSITIONS } from "../../src/state/transitions.js";
import type { TaskSummary, WorkerRecord } from "../../src/store/operations.js";
import { toExecution, toRow } from "../../src/store/row-mapping.js";
import type { ListQuery, ListResult, StepDetail } from "../../src/store/store.js";
import { creationParams } from "../../src/store/writes.js";

export class MemoryApi implements ZartApi {
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly byKey = new Map<string, string>();
  private readonly waits = new Map<string, { event: string; schemaJson: string | null }>();
  private readonly waiters = new Set<{ id: string; wake: () => void }>();
  private seq = 0;

  constructor(private readonly taskSchemas: Record<string, string | null>) {}

  async schedule(request: ScheduleRequest): Promise<ScheduleResult> {
    if (!(request.task in this.taskSchemas)) throw new ZartError("task_not_registered", `No task named ${request.task}`);
    if (request.idempotencyKey !== undefined) {
      const existing = this.executions.get(this.byKey.get(request.idempotencyKey) ?? "");
      if (existing) {
        if (existing.task !== request.task) throw new ZartError("execution_already_exists", "Key used by another task");
        return { execution: existing, created: false };
      }
    }
    const schema = this.taskSchemas[request.task];
    if (schema) {
      const message = checkJsonSchema(schema, request.data, "data");
      if (message) throw new ZartError("invalid_data", message);
    }
    const now = Date.now() + this.seq++;
    const id = `exec-${randomBytes(8).toString("hex")}`;
    const params = {
      ...creationParams({
        id,
        task: request.task,
        dataJson: JSON.stringify(request.data),
        idempotencyKey: request.idempotencyKey ?? null,
        now,
      }),
    };
    const execution: ExecutionRecord = toExecution(applyTransition(null, TRANSITIONS.create, params));
    this.executions.set(execution.id, execution);
    if (request.idempotencyKey !== undefined) this.byKey.set(request.idempotencyKey, execution.id);
    return { execution, created: true };
  }

  async get(id: string): Promise<ExecutionRecord> {
    const execution = this.executions.get(id);
    if (!execution) throw new ZartError("execution_not_found", `No execution found with ID ${id}`);
    return execution;
  }

  async list(query: ListQuery): Promise<ListResult> {
    const all = [...this.executions.values()]
      .filter((e) => (!query.status || e.status === query.status) && (!query.task || e.task === query.task))
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    if (query.order === "desc") all.reverse();
    return { executions: all.slice(query.offset, query.offset + query.limit), total: all.length };
  }

  async cancel(id: string): Promise<ExecutionRecord> {
    const execution = await this.get(id);
    if (execution.status === "completed" || execution.status === "failed") {
      throw new ZartError("execution_not_cancellable", `Execution ${id} is ${execution.status}`);
    }
    this.finish(id, { status: "cancelled" });
    return execution;
  }

  /** Test helper: put an execution in `waiting` for an event. */
  waitFor(id: string, event: string, schemaJson: string | null = null): void {
    const execution = this.executions.get(id);
    if (!execution) return;
    Object.assign(execution, { status: "waiting", waitingForEvent: event, currentStep: event });
    this.waits.set(id, { event, schemaJson });
  }

  /** Test helper: move an execution to a terminal status. */
  finish(id: string, patch: Partial<ExecutionRecord>): void {
    const execution = this.executions.get(id);
    if (!execution) return;
    Object.assign(execution, { completedAt: Date.now(), waitingForEvent: null, currentStep: null }, patch);
    this.waits.delete(id);
    for (const waiter of this.waiters) if (waiter.id === id) waiter.wake();
  }

  async deliverEvent(id: string, eventName: string, payloadJson: string): Promise<"delivered"> {
    const execution = await this.get(id);
    const wait = this.waits.get(id);
    if (!wait || wait.event !== eventName || isTerminal(execution.status)) {
      throw new ZartError("not_waiting_for_event", `Execution ${id} is not waiting for ${eventName}`);
    }
    if (wait.schemaJson) {
      const message = checkJsonSchema(wait.schemaJson, JSON.parse(payloadJson), "payload");
      if (message) throw new ZartError("invalid_data", message);
    }
    this.waits.delete(id);
    Object.assign(execution, { status: "pending", waitingForEvent: null });
    return "delivered";
  }

  async waitForTerminal(id: string, timeoutMs: number, signal?: WaitSignal): Promise<ExecutionRecord> {
    const execution = await this.get(id);
    if (isTerminal(execution.status) || timeoutMs <= 0 || signal?.aborted) return execution;
    await new Promise<void>((resolve) => {
      const waiter = { id, wake: done };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(waiter);
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(waiter);
        signal?.removeEventListener("abort", done);
        resolve();
      }
    });
    return this.get(id);
  }

  watchTerminal(id: string, timeoutMs: number, done: (execution: Promise<ExecutionRecord>) => void): () => void {
    return watchThroughWait(this, id, timeoutMs, done);
  }

  async stats(): Promise<StatusCounts> {
    const counts = emptyCounts();
    for (const e of this.executions.values()) counts[e.status]++;
    return counts;
  }

  async stepDetail(): Promise<StepDetail> {
    return { steps: [], attempts: [] };
  }

  async ready(): Promise<void> {}

  async unservedTasks(): Promise<{ task: string; pending: number }[]> {
    return [];
  }

  async tasks(): Promise<TaskInfo[]> {
    return Object.entries(this.taskSchemas).map(([name, inputSchemaJson]) => ({ name, inputSchemaJson, local: true }));
  }

  openWaiters(): number {
    return this.waiters.size;
  }

  /** Inserts here are synchronous: none ever waits. */
  pendingInserts(): number {
    return 0;
  }

  async steps(id: string): Promise<Timeline> {
    await this.get(id);
    return { executionId: id, entries: [] };
  }

  async taskList(): Promise<TaskSummary[]> {
    return Object.entries(this.taskSchemas).map(([name, inputSchemaJson]) => ({
      name,
      inputSchemaJson,
      workers: 0,
      lastSeenAt: null,
      counts: emptyCounts(),
    }));
  }

  async workers(): Promise<WorkerRecord[]> {
    return [];
  }

  async retry(id: string): Promise<ExecutionRecord> {
    const execution = await this.get(id);
    if (execution.status !== "failed" && execution.status !== "cancelled") {
      throw new ZartError("execution_not_retryable", `Execution ${id} is ${execution.status}`);
    }
    const resumed = toExecution(applyTransition(toRow(execution), TRANSITIONS.resume, { now: Date.now() }));
    this.executions.set(id, resumed);
    return resumed;
  }

  async prune(options: PruneOptions): Promise<number> {
    const cutoff = Date.now() - pruneAge(options.olderThan);
    let pruned = 0;
    for (const [id, e] of this.executions) {
      if (!isTerminal(e.status) || e.completedAt === null || e.completedAt >= cutoff) continue;
      this.executions.delete(id);
      if (e.idempotencyKey !== null) this.byKey.delete(e.idempotencyKey);
      pruned += 1;
    }
    return pruned;
  }

  async rerun(id: string, request: RerunRequest): Promise<ScheduleResult> {
    const source = await this.get(id);
    const data = request.data === undefined ? JSON.parse(source.dataJson) : request.data;
    const result = await this.schedule({ task: source.task, data, idempotencyKey: request.idempotencyKey });
    const execution = { ...result.execution, rerunOf: source.id };
    this.executions.set(execution.id, execution);
    return { ...result, execution };
  }
}
