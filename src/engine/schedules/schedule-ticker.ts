/**
 * Fires schedule ticks. Every engine runs one (unless `scheduler: false`); the store decides which
 * process fires each tick (schedule-records.ts: the tick's transaction moves the schedule on, and every
 * other attempt finds it moved), so any number of processes may run it and each tick still starts one
 * execution. Nothing here is the source of truth: the store holds each schedule's next tick, and a pass
 * reads what is due.
 *
 * A pass: read the due schedules, the held ticks and the next tick time (one store call); release held
 * ticks whose previous execution ended; fire each due tick; read again until nothing is due; then sleep
 * on the injected clock until the next tick, or `pollMs` at most (schedules created, resumed or changed by
 * another process are seen by then). A tick due long ago (everything was down) fires once, as the latest
 * tick not after now; the ticks before it are not fired.
 *
 * `buffer_one`: a held tick is released when the execution it waits for ends. This process learns that
 * from the store's terminal notice (at once, across processes on PostgreSQL, whose other processes
 * publish ends while this one watches them: `Store.watchTerminals`, held while a tick is held here and
 * taken before the status it waits on is read); the pass's read of held ticks is only the safety net for a
 * notice that never came (SQLite across processes, a reconnect).
 */
import type { Clock } from "../../core/clock.js";
import { compileCron } from "../../core/cron.js";
import type { Logger } from "../../core/logger.js";
import { isTerminal } from "../../core/types.js";
import type { ScheduleRecord, TickResult } from "../../store/schedule-records.js";
import type { NewExecution, Notice, Store } from "../../store/store.js";
import { EndWatch } from "../end-watch.js";

/** Due schedules fired per store read (a pass reads again until none is due). */
const BATCH = 100;

export type TickOutcome = "started" | "skipped" | "held" | "failed";

export interface ScheduleTickerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Longest sleep between passes. */
  pollMs: number;
  /** Whether this process fires the schedule's ticks (see ScheduleService.firesHere); others leave them. */
  firesHere(schedule: ScheduleRecord): Promise<boolean>;
  /** The execution a tick starts, or null when it cannot start (see ScheduleService.tickExecution). */
  tickExecution(schedule: ScheduleRecord, tickAt: number, now: number): Promise<NewExecution | null>;
  /** A tick this process applied (`started` also when a held tick is released), for metrics. */
  ticked(schedule: ScheduleRecord, outcome: TickOutcome, created: boolean): void;
}

export class ScheduleTicker {
  private cancelTimer: (() => void) | null = null;
  private pass: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Releases started by terminal notices, still in flight. */
  private readonly releases = new Set<Promise<void>>();
  /** Execution id -> the schedule whose held tick waits for it to end. */
  private readonly heldOn = new Map<string, string>();
  /** Taken while `heldOn` has entries. */
  private readonly ends: EndWatch;

  constructor(private readonly deps: ScheduleTickerDeps) {
    this.ends = new EndWatch(deps.store);
  }

  start(): void {
    this.poke();
  }

  /** Runs a pass now (or right after the one in flight). */
  poke(): void {
    if (this.stopped) return;
    if (this.pass !== null) {
      this.again = true;
      return;
    }
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.pass = this.runPass()
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error }, "schedule pass failed; trying again at the next poll");
        this.arm(null);
      })
      .finally(() => {
        this.pass = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  onNotice(notice: Notice): void {
    if (notice.kind !== "terminal") return;
    const scheduleId = this.heldOn.get(notice.executionId);
    if (scheduleId === undefined) return;
    this.heldOn.delete(notice.executionId);
    if (this.heldOn.size === 0) this.ends.release();
    this.track(this.releaseById(scheduleId));
  }

  /** Resolves once no pass or release is in flight: everything due at the clock's current time is done. */
  async settled(): Promise<void> {
    while (this.pass !== null || this.releases.size > 0) {
      await Promise.all([this.pass, ...this.releases]);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.settled();
    this.ends.release();
  }

  private async runPass(): Promise<void> {
    // A timer may call poke() from inside a clock's advance (a ManualClock runs timers synchronously, at
    // their own due time): read "now" once the caller's synchronous work is done, not in the middle of it.
    await Promise.resolve();
    // Due schedules this pass leaves for the poll: another process fires them, or their tick failed. They
    // stay due in the store, so each read asks for that many more rows and passes over them: otherwise a
    // batch of them (the soonest due, read first) would hide every schedule due after them, for good.
    const passed = new Set<string>();
    let failed = false;
    for (;;) {
      const now = this.deps.clock.now();
      const work = await this.deps.store.scheduleWork(now, BATCH + passed.size);
      this.heldOn.clear();
      for (const { schedule } of work.held) if (schedule.lastExecutionId) this.heldOn.set(schedule.lastExecutionId, schedule.scheduleId);
      // Newly watching: an end between the read and the watch was not published, so read again.
      if (!(await this.watchEnds())) continue;
      for (const held of work.held)
        if (held.previousEnded && (await this.isolated(held.schedule, () => this.release(held.schedule))) > 0) failed = true;
      const due = work.due.filter((schedule) => !passed.has(schedule.scheduleId));
      for (const schedule of due) {
        const failures = await this.isolated(schedule, async () => {
          if (await this.deps.firesHere(schedule)) await this.fire(schedule, now);
          else passed.add(schedule.scheduleId);
        });
        if (failures > 0) passed.add(schedule.scheduleId);
      }
      if (this.stopped) return;
      if (due.length > 0) continue;
      // A schedule whose tick keeps failing, or that another process fires, is still due: wait for the poll
      // rather than read it again at once.
      if (failed || passed.size > 0) return this.arm(null);
      // The clock may have moved past the next tick while this pass read (a test advancing its clock, a
      // slow store): read again rather than arm a timer for a time already gone.
      const later = this.deps.clock.now();
      if (work.nextTickAt !== null && work.nextTickAt <= later && later > now) continue;
      return this.arm(work.nextTickAt);
    }
  }

  /** One schedule's tick or release; a failure is logged (1) without stopping the others. */
  private async isolated(schedule: ScheduleRecord, work: () => Promise<void>): Promise<number> {
    try {
      await work();
      return 0;
    } catch (error) {
      this.deps.logger.warn({ err: error, scheduleId: schedule.scheduleId }, "schedule tick failed; retrying at the next poll");
      return 1;
    }
  }

  private arm(nextTickAt: number | null): void {
    if (this.stopped) return;
    const until = nextTickAt === null ? this.deps.pollMs : nextTickAt - this.deps.clock.now();
    this.cancelTimer?.();
    this.cancelTimer = this.deps.clock.setTimer(Math.max(0, Math.min(until, this.deps.pollMs)), () => {
      this.cancelTimer = null;
      this.poke();
    });
  }

  private async fire(schedule: ScheduleRecord, now: number): Promise<void> {
    const dueAt = schedule.nextTickAt as number;
    let tickAt = dueAt;
    let nextTickAt: number | null;
    try {
      const rule = compileCron(schedule.cron, schedule.timezone);
      tickAt = Math.max(dueAt, rule.latestAtOrBefore(now) ?? dueAt);
      nextTickAt = rule.nextAfter(Math.max(now, tickAt));
    } catch (error) {
      // Stored before this version of croner read it differently: stop it rather than retry it each pass.
      this.deps.logger.error({ err: error, scheduleId: schedule.scheduleId }, "a schedule's cron expression no longer compiles; it stops");
      nextTickAt = null;
    }
    if (tickAt > dueAt) {
      const missedSince = new Date(dueAt).toISOString();
      this.deps.logger.info(
        { scheduleId: schedule.scheduleId, missedSince },
        "ticks were missed while no scheduler ran; firing the latest once",
      );
    }
    const execution = await this.deps.tickExecution(schedule, tickAt, now);
    const result = await this.deps.store.fireScheduleTick({
      scheduleId: schedule.scheduleId,
      dueAt,
      revision: schedule.revision,
      createdAt: schedule.createdAt,
      tickAt,
      nextTickAt,
      execution,
    });
    this.report(schedule, result);
    if (result.outcome === "failed" && execution !== null) this.keyTaken(schedule, tickAt);
    if (result.outcome === "held") await this.watchHeld(schedule, result.previousExecutionId);
  }

  /**
   * The previous execution may have ended between the tick's check and its commit, before this process
   * knew to listen for it: it is registered first, then its status is read, so either the read sees the
   * end or the end's notice finds the registration.
   */
  private async watchHeld(schedule: ScheduleRecord, previousId: string): Promise<void> {
    this.heldOn.set(previousId, schedule.scheduleId);
    await this.watchEnds();
    const status = (await this.deps.store.getStatuses([previousId])).get(previousId);
    if (status === undefined || isTerminal(status)) {
      this.heldOn.delete(previousId);
      if (this.heldOn.size === 0) this.ends.release();
      await this.releaseById(schedule.scheduleId);
    }
  }

  /**
   * Holds the store's watch of ends while ticks are held here, drops it when none is. False when it was
   * not held yet: a status read before it may have missed an end that nobody published.
   */
  private async watchEnds(): Promise<boolean> {
    if (this.heldOn.size === 0) {
      this.ends.release();
      return true;
    }
    const held = this.ends.held;
    this.ends.take();
    await this.ends.ready();
    return held;
  }

  private async releaseById(scheduleId: string): Promise<void> {
    const schedule = await this.deps.store.getSchedule(scheduleId);
    if (schedule && schedule.heldTickAt !== null) await this.release(schedule);
  }

  private async release(schedule: ScheduleRecord): Promise<void> {
    if (!(await this.deps.firesHere(schedule))) return;
    const heldTickAt = schedule.heldTickAt as number;
    const execution = await this.deps.tickExecution(schedule, heldTickAt, this.deps.clock.now());
    const result = await this.deps.store.releaseHeldTick({
      scheduleId: schedule.scheduleId,
      heldTickAt,
      revision: schedule.revision,
      createdAt: schedule.createdAt,
      execution,
    });
    if (result.outcome === "started" || result.outcome === "failed") this.report(schedule, result);
    if (result.outcome === "failed" && execution !== null) this.keyTaken(schedule, heldTickAt);
  }

  /** The store refused to adopt an execution a client created under the tick's idempotency key (schedule-rows.ts). */
  private keyTaken(schedule: ScheduleRecord, tickAt: number): void {
    this.deps.logger.warn(
      { scheduleId: schedule.scheduleId, tick: new Date(tickAt).toISOString() },
      "a schedule's tick found its idempotency key taken by an execution the schedule did not start; the tick is dropped",
    );
  }

  private report(schedule: ScheduleRecord, result: TickResult): void {
    if (result.outcome === "stale" || result.outcome === "not_ready") return;
    const executionId = result.outcome === "started" ? result.execution.id : undefined;
    this.deps.logger.debug({ scheduleId: schedule.scheduleId, outcome: result.outcome, executionId }, "schedule tick");
    this.deps.ticked(schedule, result.outcome, result.outcome === "started" && result.created);
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, "releasing a held schedule tick failed; the next pass retries"))
      .finally(() => this.releases.delete(tracked));
    this.releases.add(tracked);
  }
}
