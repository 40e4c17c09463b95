/**
 * Starts runs and follows each to its end. A run holds its slot while its code runs, moves to `settling`
 * when the code is done (its final write committing; the slot goes to the next execution meanwhile), and
 * leaves when that write is answered. Whatever may free room starts buffered executions and tells the
 * worker, which claims again if work may be waiting.
 */
import type { Clock } from "../core/clock.js";
import type { TaskDefinition } from "../core/task.js";
import type { ClaimedExecution } from "../store/store.js";
import { ExecutionRunner, type RunnerDeps } from "./execution-runner.js";
import type { ParkedRuns } from "./parked-runs.js";
import type { Slots } from "./slots.js";

export interface LauncherDeps {
  tasks: ReadonlyMap<string, TaskDefinition>;
  clock: Clock;
  slots: Slots;
  parked: ParkedRuns;
  runnerDeps: RunnerDeps;
  onLaunch?(task: string): void;
  /** Shutdown began: buffered executions no longer start. */
  stopped(): boolean;
  /** A run ended in a way that may free a slot. */
  freed(): void;
}

export class RunLauncher {
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: LauncherDeps) {}

  launch(item: ClaimedExecution, runnerDeps: RunnerDeps = this.deps.runnerDeps): ExecutionRunner | null {
    const { slots, clock } = this.deps;
    const task = this.deps.tasks.get(item.execution.task);
    if (!task) return null; // cannot happen: claims are filtered by our task names
    const id = item.execution.id;
    const launchedAt = clock.now();
    this.deps.parked.forget(id);
    const runner = new ExecutionRunner(item, task, runnerDeps, (settling) => this.settle(settling, launchedAt));
    this.deps.onLaunch?.(task.name);
    slots.running.set(id, runner);
    void runner.done.then(() => {
      // Only this runner's entries: a run of the same execution may have replaced it (a stale eager resume).
      const held = slots.running.get(id) === runner && slots.running.delete(id);
      if (slots.settling.get(id) === runner) slots.settling.delete(id);
      if (slots.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
      // A suspect's end, or the end that leaves the worker idle for one waiting, lets the buffer move on.
      const unblocks = slots.ended(id) || (slots.idle() && slots.quarantined());
      if (held || unblocks || slots.settling.size >= slots.settlingFree()) {
        if (!this.deps.stopped()) this.startBuffered();
        this.deps.freed();
      }
    });
    return runner;
  }

  startBuffered(): void {
    const { slots } = this.deps;
    for (let next = slots.nextBuffered(); next; next = slots.nextBuffered()) this.launch(next);
  }

  /** Resolves once nothing runs or settles here, or after `graceMs`, whichever comes first. */
  async idleWithin(graceMs: number): Promise<void> {
    if (this.deps.slots.idle()) return;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const endGrace = new AbortController();
    const grace = this.deps.clock.sleep(graceMs, endGrace.signal).catch(() => {});
    await Promise.race([idle, grace]);
    endGrace.abort();
  }

  /** The run's code is done; its slot goes to the next execution while the final write commits. */
  private settle(runner: ExecutionRunner, launchedAt: number): void {
    const { slots } = this.deps;
    const id = runner.ctx.executionId;
    // Not (or no longer) the tracked run of `id`: one settling inside its constructor is not in the map yet,
    // and one replaced by a stale eager resume's successor is not any more.
    if (slots.running.get(id) !== runner) return;
    slots.running.delete(id);
    slots.settling.set(id, runner);
    slots.recordRunTime(this.deps.clock.now() - launchedAt);
    if (!this.deps.stopped()) this.startBuffered();
  }
}
