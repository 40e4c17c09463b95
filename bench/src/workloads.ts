/**
 * The workloads, identical logic for every system. Each system calls these pure functions from its
 * own handlers, so the only difference between systems is how the work is made durable.
 *
 * Inputs are i = 0 … N-1. Each run checks that the outputs sum to the expected value and that exactly
 * N executions finished, once each (nothing skipped, nothing run twice).
 */

/** `steps-K`: K sequential steps per execution (the checkpoint-cost scaling figure, Zart only). */
export type StepsWorkload = `steps-${number}`;

/**
 * What a throughput run drains. `w20`: twenty sequential steps. `parent10`: a parent that runs ten W0-like
 * children in parallel and returns their sum (N counts parents).
 */
export type ThroughputWorkload = "w0" | "w1" | "w20" | "parent10" | StepsWorkload;

export type WorkloadName = ThroughputWorkload | "w3";

/** Steps per execution of the scaling figure. */
export const STEP_COUNTS = [1, 10, 50, 200] as const;

/** Children per parent in `parent10`. */
export const CHILDREN = 10;

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

/**
 * Step j of a chain (W20, steps-K). Not commutative, so a step skipped, repeated or run out of order
 * changes the output; bounded, so 200 steps stay exact integers.
 */
export function chainStep(x: number, j: number): number {
  return (x * 3 + j) % 1_000_003;
}

/** Steps per execution: 20 for W20, K for steps-K (null for the other workloads). */
export function chainLength(workload: WorkloadName): number | null {
  if (workload === "w20") return 20;
  if (workload.startsWith("steps-")) return Number(workload.slice("steps-".length));
  return null;
}

/**
 * The W0 "priority" variant's priority of execution i: 0-9 from a fixed hash of i (random-looking, the same
 * mix in every run and for every system). Fibonacci hashing: the top of (i+1)·2^32/φ mod 2^32, scaled.
 */
export function priorityOf(i: number): number {
  return Math.floor(((Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32) * 10);
}

export function stepsWorkload(k: number): StepsWorkload {
  return `steps-${k}`;
}

/** The output of a chain of k steps started at i. */
export function chainOutput(i: number, k: number): number {
  let x = i;
  for (let j = 0; j < k; j++) x = chainStep(x, j);
  return x;
}

/** The input of parent i's child k: distinct across all parents, so a child's output names its parent. */
export function childInput(i: number, k: number): number {
  return i * CHILDREN + k;
}

/** Executions one unit of N makes: a parent and its children, else 1. */
export function executionsPer(workload: ThroughputWorkload): number {
  return workload === "parent10" ? 1 + CHILDREN : 1;
}

/** The output each execution must produce for input i. */
export function expectedOutput(workload: WorkloadName, i: number): number {
  if (workload === "w0") return i;
  if (workload === "w1") return stepC(stepB(stepA(i)));
  if (workload === "parent10") {
    let sum = 0;
    for (let k = 0; k < CHILDREN; k++) sum += w0({ i: childInput(i, k) });
    return sum;
  }
  const k = chainLength(workload);
  if (k !== null) return chainOutput(i, k);
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
