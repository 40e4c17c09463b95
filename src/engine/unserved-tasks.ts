/**
 * Work nobody runs. The contract accepts an execution of any registered task (201), also when no live
 * worker serves that task any more (it was retired, or its workers are all down): the execution waits,
 * `pending`, until one starts. That is said where an operator looks: a warning in the log when such an
 * execution is scheduled (at most once a minute per task), `/readyz`'s `unserved_tasks` and the
 * `zart_task_unserved_pending` gauge (both read the task list when asked).
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";

/** How long a read of the live workers' tasks is trusted (heartbeats come every third of a lease). */
const SNAPSHOT_MS = 5_000;
const WARN_EVERY_MS = 60_000;

export interface UnservedTask {
  task: string;
  /** Its executions waiting for a worker. */
  pending: number;
}

export class UnservedTasks {
  private snapshot: { at: number; served: Set<string> } | null = null;
  private reading: Promise<Set<string>> | null = null;
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      logger: Logger;
      /** Tasks this process's worker runs (served whatever the store says). */
      local: ReadonlySet<string>;
    },
  ) {}

  /** An execution of `task` was created: warns when no live worker serves it. Never delays nor fails the caller. */
  scheduled(task: string, executionId: string): void {
    if (this.deps.local.has(task)) return;
    // Most calls find the snapshot fresh: answered at once, without a promise per execution of a batch.
    const fresh = this.freshSnapshot();
    if (fresh) {
      if (!fresh.has(task)) this.warn(task, executionId);
      return;
    }
    this.served()
      .then((served) => {
        if (!served.has(task)) this.warn(task, executionId);
      })
      .catch(() => {});
  }

  /** Tasks with pending executions and no live worker, by name. */
  async list(): Promise<UnservedTask[]> {
    const tasks = await this.deps.store.listTasks(this.deps.clock.now());
    return tasks
      .filter((t) => t.workers === 0 && t.counts.pending > 0 && !this.deps.local.has(t.name))
      .map((t) => ({ task: t.name, pending: t.counts.pending }));
  }

  private warn(task: string, executionId: string): void {
    const now = this.deps.clock.now();
    const last = this.warnedAt.get(task);
    if (last !== undefined && now - last < WARN_EVERY_MS) return;
    this.warnedAt.set(task, now);
    this.deps.logger.warn(
      { task, executionId },
      `no live worker serves task "${task}": its executions wait (pending) until a worker for it starts`,
    );
  }

  private freshSnapshot(): Set<string> | null {
    const { snapshot } = this;
    return snapshot && this.deps.clock.now() - snapshot.at < SNAPSHOT_MS ? snapshot.served : null;
  }

  private async served(): Promise<Set<string>> {
    const fresh = this.freshSnapshot();
    if (fresh) return fresh;
    const now = this.deps.clock.now();
    this.reading ??= this.deps.store
      .listWorkers(now)
      .then((workers) => {
        const served = new Set(workers.flatMap((w) => w.tasks));
        this.snapshot = { at: now, served };
        return served;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }
}
