/**
 * The benchmark workloads as Zart tasks. Also a task module for `zart-server --tasks` (HTTP figures),
 * so it imports nothing but the package as built (dist/). The in-process adapter sets `observer` to count
 * outputs inside the worker, as the peers' handlers do.
 */
import { defineTask } from "../../dist/core/task.js";
import {
  CHILDREN,
  chainLength,
  chainStep,
  childInput,
  type Input,
  STEP_COUNTS,
  stepA,
  stepB,
  stepC,
  stepsWorkload,
  type ThroughputWorkload,
  w0,
} from "./workloads.js";

export const observer: { onOutput: ((i: number, output: number) => void) | null } = { onOutput: null };

export const benchW0 = defineTask({
  name: "bench-w0",
  run(_ctx, data: Input) {
    const out = w0(data);
    observer.onOutput?.(data.i, out);
    return out;
  },
});

export const benchW1 = defineTask({
  name: "bench-w1",
  async run(ctx, data: Input) {
    const a = await ctx.step("a", () => stepA(data.i));
    const b = await ctx.step("b", () => stepB(a));
    const c = await ctx.step("c", () => stepC(b));
    observer.onOutput?.(data.i, c);
    return c;
  },
});

/** A chain of k sequential steps, each one checkpointed (W20, and the steps-per-execution figure). */
function chainTask(name: string, k: number) {
  return defineTask({
    name,
    async run(ctx, data: Input) {
      let x = data.i;
      for (let j = 0; j < k; j++) {
        const prev = x;
        x = await ctx.step(`s${j}`, () => chainStep(prev, j));
      }
      observer.onOutput?.(data.i, x);
      return x;
    },
  });
}

export const benchW20 = chainTask("bench-w20", 20);

export const benchSteps = STEP_COUNTS.map((k) => chainTask(`bench-${stepsWorkload(k)}`, k));

/**
 * W0 under a keyed concurrency limit that never binds (1000 per key, 100 keys, C ≤ 50): it costs the
 * slot bookkeeping of every claim and completion, never a wait.
 */
export const KEYS = 100;
export const benchW0Keyed = defineTask({
  name: "bench-w0-keyed",
  concurrency: { limit: 1000, key: (data: Input) => `k${data.i % KEYS}` },
  run(_ctx, data: Input) {
    const out = w0(data);
    observer.onOutput?.(data.i, out);
    return out;
  },
});

/** A W0-like child of `parent10`: returns its input, outside the tally (its parent's sum checks it). */
export const benchChild = defineTask({
  name: "bench-child",
  run(_ctx, data: Input) {
    return w0(data);
  },
});

/** Runs ten children in parallel (each its own execution) and returns the sum of their outputs. */
export const benchParent10 = defineTask({
  name: "bench-parent10",
  async run(ctx, data: Input) {
    const outputs = await Promise.all(
      Array.from({ length: CHILDREN }, (_, k) => ctx.runChild(`c${k}`, benchChild, { i: childInput(data.i, k) })),
    );
    const sum = outputs.reduce((a, b) => a + b, 0);
    observer.onOutput?.(data.i, sum);
    return sum;
  },
});

/** W3: checkpoint a step, park on event "go", return i + payload (payload 0 → output i). */
export const benchW3 = defineTask({
  name: "bench-w3",
  async run(ctx, data: Input) {
    await ctx.step("a", () => data.i);
    const payload = await ctx.waitForEvent<number>("go");
    const out = data.i + payload;
    observer.onOutput?.(data.i, out);
    return out;
  },
});

/** For the memory figure: an execution that sleeps for an hour, holding no worker slot meanwhile. */
export const benchSleep = defineTask({
  name: "bench-sleep",
  async run(ctx, data: Input) {
    await ctx.sleep("nap", "1h");
    return data.i;
  },
});

export const benchTasks = [benchW0, benchW1, benchW3, benchSleep, benchW20, ...benchSteps, benchW0Keyed, benchChild, benchParent10];

export const TASK_FOR: Record<"w0" | "w1" | "w3", string> = { w0: "bench-w0", w1: "bench-w1", w3: "bench-w3" };

/** The task a throughput run of `workload` schedules; variant "keyed" is W0 under its concurrency key. */
export function zartTaskFor(workload: ThroughputWorkload, variant: string): string {
  if (workload === "w0") return variant === "keyed" ? benchW0Keyed.name : benchW0.name;
  if (workload === "w1") return benchW1.name;
  if (workload === "parent10") return benchParent10.name;
  if (chainLength(workload) === null) throw new Error(`no Zart task for workload ${workload}`);
  return `bench-${workload}`;
}
