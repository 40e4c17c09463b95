/**
 * An engine's schedules: the API (`engine.schedules`), the code sync at start and the ticker, built from
 * the engine's resolved options. Which processes fire ticks: every engine (API-only servers included)
 * unless started with `scheduler: false`; the store makes each tick fire once however many do (see
 * schedule-ticker.ts), so a fleet needs no leader and keeps firing while any one process is up.
 */
import type { Notice } from "../../store/store.js";
import type { ResolvedEngineOptions } from "../resolve-options.js";
import type { TaskDirectory } from "../task-directory.js";
import { ScheduleService } from "./schedule-service.js";
import { ScheduleTicker } from "./schedule-ticker.js";

/** `engine.schedules`: the schedule API, plus a way for tests on a ManualClock to know the ticker is idle. */
export class EngineSchedules extends ScheduleService {
  constructor(
    deps: ConstructorParameters<typeof ScheduleService>[0],
    private readonly idle: () => Promise<void>,
  ) {
    super(deps);
  }

  /**
   * Resolves once the scheduler has done all it can at the clock's current time (every due tick fired,
   * every releasable held tick started). For tests that move a `ManualClock`: advance, then await this.
   */
  settled(): Promise<void> {
    return this.idle();
  }
}

export class Scheduling {
  readonly schedules: EngineSchedules;
  private readonly ticker: ScheduleTicker | null;

  constructor(
    private readonly options: ResolvedEngineOptions,
    directory: TaskDirectory,
  ) {
    const { store, clock, logger, metrics } = options;
    this.schedules = new EngineSchedules(
      {
        store,
        clock,
        logger,
        directory,
        maxPayloadBytes: options.maxPayloadBytes,
        changed: () => this.ticker?.poke(),
      },
      () => this.ticker?.settled() ?? Promise.resolve(),
    );
    this.ticker = options.scheduler
      ? new ScheduleTicker({
          store,
          clock,
          logger,
          pollMs: options.scheduler.pollMs,
          firesHere: (schedule) => this.schedules.firesHere(schedule),
          tickExecution: (schedule, tickAt, now) => this.schedules.tickExecution(schedule, tickAt, now),
          ticked: (schedule, outcome, created) => {
            if (outcome === "started" && !created) return;
            metrics.scheduleTicked?.(schedule.scheduleId, outcome);
            if (created) metrics.scheduled(schedule.task);
          },
        })
      : null;
  }

  /** Syncs the code's schedules (when the engine was given `schedules`) and starts ticking. */
  async start(): Promise<void> {
    const declared = this.options.schedules;
    if (declared !== null) await this.schedules.syncCode(declared, [...this.options.tasks.keys()]);
    this.ticker?.start();
  }

  onNotice(notice: Notice): void {
    if (notice.kind === "reconnected") this.ticker?.poke();
    else this.ticker?.onNotice(notice);
  }

  stop(): Promise<void> {
    return this.ticker?.stop() ?? Promise.resolve();
  }
}
