/**
 * The workloads, identical logic for every system. Each system calls these pure functions from its
 * own handlers, so the only difference between systems is how the work is made durable.
 *
 * Inputs are i = 0 … N-1. Each run checks that the outputs sum to the expected value and that exactly
 * N executions finished, once each (nothing skipped, nothing run twice).
 */

export type WorkloadName = "w0" | "w1" | "w3";

export interface Input {
  i: number;
}

/** W0: one unit, returns at once. */
export function w0(input: Input): number {
  return input.i;
}

/** W1 step a. */
export function stepA(i: number): number {
  return i + 1;
}

/** W1 step b. */
export function stepB(a: number): number {
  return a * 2;
}

/** W1 step c: the execution's output. */
export function stepC(b: number): number {
  return b - 1;
}

/** The output each execution must produce for input i. */
export function expectedOutput(workload: WorkloadName, i: number): number {
  if (workload === "w0") return i;
  if (workload === "w1") return stepC(stepB(stepA(i)));
  // W3 returns the event payload's value plus i, so a payload meant for another execution shows up.
  return i;
}

export function expectedSum(workload: WorkloadName, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += expectedOutput(workload, i);
  return sum;
}

export function inputs(n: number): Input[] {
  return Array.from({ length: n }, (_, i) => ({ i }));
}

/**
 * Counts completions per input, so a duplicate or a gap is caught even when the sum happens to match.
 * Lives in the worker process; its summary travels back to the parent.
 */
export class OutputTally {
  private readonly seen: Uint8Array;
  private sum = 0;
  private count = 0;
  private duplicates = 0;
  private wrong = 0;

  constructor(
    private readonly workload: WorkloadName,
    readonly n: number,
  ) {
    this.seen = new Uint8Array(n);
  }

  record(i: number, output: number): void {
    this.count++;
    this.sum += output;
    if (output !== expectedOutput(this.workload, i)) this.wrong++;
    if (i < 0 || i >= this.n) {
      this.wrong++;
      return;
    }
    if (this.seen[i]) this.duplicates++;
    this.seen[i] = 1;
  }

  get done(): boolean {
    return this.count >= this.n;
  }

  summary(): TallySummary {
    return { count: this.count, sum: this.sum, duplicates: this.duplicates, wrong: this.wrong };
  }
}

export interface TallySummary {
  count: number;
  sum: number;
  duplicates: number;
  wrong: number;
}

export interface OutputCheck {
  ok: boolean;
  expectedCount: number;
  expectedSum: number;
  count: number;
  sum: number;
  detail: string;
}

/** Compares a tally (from the worker, or from a query of stored outputs) with what N executions must give. */
export function checkOutputs(workload: WorkloadName, n: number, tally: TallySummary): OutputCheck {
  const want = expectedSum(workload, n);
  const problems: string[] = [];
  if (tally.count !== n) problems.push(`count ${tally.count} ≠ ${n}`);
  if (tally.sum !== want) problems.push(`sum ${tally.sum} ≠ ${want}`);
  if (tally.duplicates > 0) problems.push(`${tally.duplicates} duplicates`);
  if (tally.wrong > 0) problems.push(`${tally.wrong} wrong outputs`);
  return {
    ok: problems.length === 0,
    expectedCount: n,
    expectedSum: want,
    count: tally.count,
    sum: tally.sum,
    detail: problems.length === 0 ? "ok" : problems.join(", "),
  };
}
