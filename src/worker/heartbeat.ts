/**
 * A worker's heartbeat (operations.md §1, `GET /workers`): its row in the store is written when it starts,
 * refreshed every third of the lease period (the lease keeper's cadence) with how many executions it runs,
 * and deleted when it stops gracefully. A worker that dies stops refreshing it and drops out of the list on
 * its own (`/workers` shows those heard from within two lease periods); any heartbeat deletes rows a day
 * old. One small write per period, never one per execution.
 */
import { hostname } from "node:os";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";

export interface HeartbeatDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  workerId: string;
  tasks: readonly string[];
  concurrency: number;
  leaseMs: number;
  /** Executions this worker runs now. */
  running: () => number;
}

export class Heartbeat {
  private cancelTimer: (() => void) | null = null;
  private startedAt = 0;
  private readonly host = hostname();

  constructor(private readonly deps: HeartbeatDeps) {}

  /** Writes the first beat (so the worker is listed once this resolves), then beats on a timer. */
  async start(): Promise<void> {
    this.startedAt = this.deps.clock.now();
    await this.beat();
    this.schedule();
  }

  /** Stops beating and deletes the row. */
  async stop(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = null;
    try {
      await this.deps.store.removeWorker(this.deps.workerId);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "could not remove this worker's heartbeat row; it drops out of /workers by itself");
    }
  }

  private schedule(): void {
    this.cancelTimer = this.deps.clock.setTimer(Math.max(100, Math.floor(this.deps.leaseMs / 3)), () => {
      void this.beat().finally(() => {
        if (this.cancelTimer) this.schedule();
      });
    });
  }

  /** One beat now; exposed for tests. Never throws: a missed beat is logged, the next one follows. */
  async beat(): Promise<void> {
    const { store, clock, workerId, tasks, concurrency, leaseMs } = this.deps;
    try {
      await store.heartbeat({
        workerId,
        host: this.host,
        pid: process.pid,
        tasks,
        concurrency,
        running: this.deps.running(),
        leaseMs,
        startedAt: this.startedAt,
        now: clock.now(),
      });
    } catch (error) {
      this.deps.logger.warn({ err: error }, "heartbeat failed; will retry");
    }
  }
}
