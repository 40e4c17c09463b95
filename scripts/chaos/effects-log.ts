/**
 * The side-effect log the step bodies write (see chaos-tasks.ts), read incrementally: each refresh parses
 * the lines appended since the last one. A line is complete once its newline is on disk; a partial last
 * line is left for the next refresh.
 */
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";

export type Phase = "run" | "throw" | "end";

export interface StepRun {
  /** Wall-clock milliseconds in the worker when the body started (or, for `end`, returned). */
  at: number;
  /**
   * When the attempt began: the engine's time for it (after it confirmed the lease, before it called the
   * body), or `at` when that is later (the two clocks differ by the measured database offset) or unknown.
   */
  began: number;
  pid: number;
  execution: string;
  step: string;
  phase: Phase;
}

export const stepKey = (execution: string, step: string) => `${execution} ${step}`;

export class EffectsLog {
  readonly runs: StepRun[] = [];
  /** Every start (`run` and `throw`) per step, in file order. */
  readonly startsByKey = new Map<string, StepRun[]>();
  readonly startsByPid = new Map<number, StepRun[]>();
  private offset = 0;
  private rest = "";

  constructor(readonly path: string) {
    writeFileSync(path, "");
  }

  refresh(): void {
    const fd = openSync(this.path, "r");
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read === 0) break;
        this.offset += read;
        const text = this.rest + buffer.toString("utf8", 0, read);
        const lines = text.split("\n");
        this.rest = lines.pop() ?? "";
        for (const line of lines) if (line) this.add(line);
      }
    } finally {
      closeSync(fd);
    }
  }

  private add(line: string): void {
    const [at, pid, execution, step, phase, began] = line.split(" ");
    if (!at || !pid || !execution || !step || (phase !== "run" && phase !== "throw" && phase !== "end"))
      throw new Error(`malformed side-effect line: ${line}`);
    const ms = Number(at);
    const run: StepRun = { at: ms, pid: Number(pid), execution, step, phase, began: began ? Math.min(Number(began), ms) : ms };
    this.runs.push(run);
    if (phase === "end") return;
    const key = stepKey(execution, step);
    const byKey = this.startsByKey.get(key);
    if (byKey) byKey.push(run);
    else this.startsByKey.set(key, [run]);
    const byPid = this.startsByPid.get(run.pid);
    if (byPid) byPid.push(run);
    else this.startsByPid.set(run.pid, [run]);
  }
}
