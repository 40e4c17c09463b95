/**
 * Test helpers: run workflows on a throwaway SQLite file with a {@link ManualClock}, and wait for
 * outcomes by event instead of sleeping.
 *
 * ```ts
 * const h = await createTestEngine({ tasks: [myTask] });
 * const { execution } = await h.engine.schedule({ task: "my-task", data: {} });
 * await h.outcome(execution.id, "parked");   // reached a sleep
 * h.clock.advance(60_000);
 * const done = await h.engine.waitForTerminal(execution.id, 1e9);
 * await h.close();
 * ```
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../core/clock.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { ScheduleDefinition } from "../core/schedule.js";
import type { TaskDefinition } from "../core/task.js";
import { Engine } from "../engine/engine.js";
import type { EngineOptions, WorkerOptions } from "../engine/engine-options.js";
import type { EngineMetrics } from "../engine/metrics.js";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/store.js";

export { ManualClock };

export interface RunOutcome {
  task: string;
  outcome: string;
  executionId: string;
}

/** Records run outcomes (completed, failed, parked, requeued, aborted) and schedule ticks, and lets tests await them. */
export class OutcomeLog implements EngineMetrics {
  readonly outcomes: RunOutcome[] = [];
  /** Schedule ticks this engine applied: `started`, `skipped`, `held` or `failed`. */
  readonly ticks: { scheduleId: string; outcome: string }[] = [];
  private watchers = new Set<() => void>();

  scheduled(): void {}
  started(): void {}
  stepFinished(): void {}
  claimed(): void {}

  scheduleTicked(scheduleId: string, outcome: string): void {
    this.ticks.push({ scheduleId, outcome });
  }

  finished(task: string, outcome: string, executionId: string): void {
    this.outcomes.push({ task, outcome, executionId });
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Resolves when the `nth` (1-based) outcome matching arrives (counting those already recorded). */
  waitFor(predicate: (o: RunOutcome) => boolean, nth = 1): Promise<RunOutcome> {
    return new Promise((resolve) => {
      const check = () => {
        const matches = this.outcomes.filter(predicate);
        const hit = matches[nth - 1];
        if (!hit) return;
        this.watchers.delete(check);
        resolve(hit);
      };
      this.watchers.add(check);
      check();
    });
  }
}

export interface TestEngine {
  engine: Engine;
  store: Store;
  clock: ManualClock;
  log: OutcomeLog;
  path: string;
  /** Resolves at the `nth` run of `executionId` that ended with `outcome`. */
  outcome(executionId: string, outcome: string, nth?: number): Promise<RunOutcome>;
  /** Stops the engine (graceful) and starts a new one on the same file and clock: a process restart. */
  restart(overrides?: Partial<EngineOptions>): Promise<void>;
  close(): Promise<void>;
}

export interface TestEngineOptions {
  tasks: readonly TaskDefinition[];
  worker?: WorkerOptions | false;
  clock?: ManualClock;
  maxPayloadBytes?: number;
  /** Default: silent, so test output stays readable; pass a logger (pino, say) to see `ctx.log` lines. */
  logger?: Logger;
  /** Schedules declared in code (`defineSchedule`); move `clock` and await `engine.schedules.settled()` to see them tick. */
  schedules?: readonly ScheduleDefinition[];
}

export async function createTestEngine(options: TestEngineOptions): Promise<TestEngine> {
  const dir = mkdtempSync(join(tmpdir(), "zart-engine-"));
  const path = join(dir, "zart.db");
  const clock = options.clock ?? new ManualClock();
  const log = new OutcomeLog();
  let store = await openStore(path);
  const start = (overrides: Partial<EngineOptions> = {}) =>
    Engine.start({
      store,
      tasks: options.tasks,
      clock,
      metrics: log,
      worker: options.worker,
      maxPayloadBytes: options.maxPayloadBytes,
      logger: options.logger ?? silentLogger,
      random: () => 0.5,
      schedules: options.schedules,
      ...overrides,
    });
  let engine: Engine;
  try {
    engine = await start();
  } catch (error) {
    // A refused definition (a test may expect one) leaves no open file and no directory behind.
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const harness: TestEngine = {
    engine,
    store,
    clock,
    log,
    path,
    outcome: (id, outcome, nth = 1) => log.waitFor((o) => o.executionId === id && o.outcome === outcome, nth),
    async restart(overrides) {
      await harness.engine.stop();
      await store.close();
      store = await openStore(path);
      harness.store = store;
      harness.engine = await start(overrides);
    },
    async close() {
      await harness.engine.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
