/**
 * What the run knows about step records over time, for the two exactly-once checks:
 * - when each completed step record was first seen committed (a snapshot is taken at every fault), so
 *   that a run of that step starting later is a step that ran again after its record committed;
 * - which step runs were in flight at each fault (started, not recorded, on the process or across the
 *   outage the fault hit), the only ones allowed to run twice.
 */
import type { Database } from "./database.js";
import { type StepRun, stepKey } from "./effects-log.js";

export class StepLedger {
  /** `<execution> <step>` → the time (ms, this machine's clock) its completed record was first seen. */
  readonly firstSeen = new Map<string, number>();
  /** `<execution> <step>` → the faults at which it was in flight. */
  readonly inFlightAt = new Map<string, string[]>();
  snapshots = 0;

  constructor(private readonly db: Database) {}

  /** Reads every completed step record; resolves with the time after the read (all of them committed by then). */
  async snapshot(): Promise<number> {
    const rows = await this.db.query<{ execution_id: string; name: string }>(
      "SELECT execution_id, name FROM chaos.steps WHERE state = 'completed'",
    );
    const seenAt = Date.now();
    for (const row of rows) {
      const key = stepKey(row.execution_id, row.name);
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, seenAt);
    }
    this.snapshots += 1;
    return seenAt;
  }

  isRecorded(execution: string, step: string): boolean {
    return this.firstSeen.has(stepKey(execution, step));
  }

  /** Marks these runs as in flight at `fault` (those whose step is recorded by now are left out). */
  allowInFlight(fault: string, runs: readonly StepRun[]): number {
    return this.allow(fault, runs, () => Date.now());
  }

  /** The same, judged after the fact: a run counts if its step was not yet seen recorded when its attempt began. */
  allowStartedUnrecorded(fault: string, runs: readonly StepRun[]): number {
    return this.allow(fault, runs, (run) => run.began);
  }

  private allow(fault: string, runs: readonly StepRun[], asOf: (run: StepRun) => number): number {
    let added = 0;
    for (const run of runs) {
      const key = stepKey(run.execution, run.step);
      if ((this.firstSeen.get(key) ?? Number.POSITIVE_INFINITY) <= asOf(run)) continue;
      const faults = this.inFlightAt.get(key) ?? [];
      if (!faults.includes(fault)) {
        faults.push(fault);
        this.inFlightAt.set(key, faults);
        added += 1;
      }
    }
    return added;
  }
}
