/**
 * The benchmark workloads as Zart tasks. Also a task module for `zart-server --tasks` (HTTP figures),
 * so it imports nothing but the repo's own source. The in-process adapter sets `observer` to count
 * outputs inside the worker, as the peers' handlers do.
 */
import { defineTask } from "../../src/core/task.js";
import { type Input, stepA, stepB, stepC, w0 } from "./workloads.js";

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

export const benchTasks = [benchW0, benchW1, benchW3, benchSleep];

export const TASK_FOR: Record<"w0" | "w1" | "w3", string> = { w0: "bench-w0", w1: "bench-w1", w3: "bench-w3" };
