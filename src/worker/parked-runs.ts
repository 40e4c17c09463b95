/**
 * Runs this process parked on an event, as stored, so that an event delivered here can resume one from its
 * steps before the delivery is written (held-write.ts, eager resume). Bounded in count (the oldest goes
 * first) and in size (a run whose input and step results are longer than RUN_MAX_CHARS is not kept): at
 * most about 64 MB in all.
 */
import type { ClaimedExecution } from "../store/store.js";

const RUNS_KEPT = 1000;
const RUN_MAX_CHARS = 64 * 1024;

export class ParkedRuns {
  private readonly runs = new Map<string, ClaimedExecution>();

  remember(run: ClaimedExecution): void {
    // A limited execution is never claimed by a delivery (it needs a slot first): nothing to resume early.
    if (run.execution.concurrencyLimit !== null) return;
    let chars = run.execution.dataJson.length;
    for (const step of run.steps) chars += step.resultJson?.length ?? 0;
    if (chars > RUN_MAX_CHARS) return;
    this.runs.set(run.execution.id, run);
    if (this.runs.size > RUNS_KEPT) this.runs.delete(this.runs.keys().next().value as string);
  }

  forget(id: string): void {
    this.runs.delete(id);
  }

  /**
   * The parked state of `id` if it waits for `eventName` and that wait has no schema (a payload to check
   * first goes the usual way). Taken: at most one resume uses it. Whether it is still current, the
   * delivery's claim tells.
   */
  take(id: string, eventName: string): ClaimedExecution | null {
    const parked = this.runs.get(id);
    if (!parked) return null;
    this.runs.delete(id);
    const wait = parked.steps.find((s) => s.name === eventName && s.kind === "event" && s.state === "waiting");
    return wait?.schemaJson === null ? parked : null;
  }
}
