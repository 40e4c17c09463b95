/**
 * The chaos run's task module, loaded by every worker (`zart worker --tasks`). Each kind of work the run
 * mixes is one task here; every step body appends one line to the side-effect log named by
 * ZART_EFFECTS_FILE when it starts, `<ms> <pid> <execution> <step> <phase> <began>`, so the run can count
 * how often each step really ran and on which worker (`began`: when the engine started the attempt, after
 * its lease check; a process stopped between the two writes its line only once it continues):
 * - `run`: a body that is meant to return (a second `run` of one step is a duplicate);
 * - `throw`: an attempt of the flaky step that throws on purpose (retried, never a duplicate);
 * - `end`: written when the slow step returns, so a paused worker's late finish shows in the log.
 * The log is written with appendFileSync before the body's work: a process killed later in the body has
 * its line on disk already.
 */
import { appendFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { defineSchedule, defineTask, type StepContext, type WorkflowContext } from "../../src/index.js";

const effects = process.env.ZART_EFFECTS_FILE;

/** A start (`run`, `throw`) also writes when its attempt began, on the engine's clock (after the lease check). */
function logRun(executionId: string, step: string, phase: "run" | "throw" | "end", attempt?: StepContext): void {
  if (!effects) return;
  const began = attempt ? ` ${attempt.startedAt.getTime()}` : "";
  appendFileSync(effects, `${Date.now()} ${process.pid} ${executionId} ${step} ${phase}${began}\n`);
}

/** A few milliseconds of "user work", so that steps are in flight when a worker is killed. */
const work = () => delay(5 + Math.floor(Math.random() * 25));

interface Input {
  i: number;
}

const input = { type: "object", properties: { i: { type: "integer" } }, required: ["i"] } as const;

/** One checkpointed step that logs its runs and returns `i * factor`. */
function oneStep(name: string, step: string, factor: number) {
  return defineTask({
    name,
    input,
    async run(ctx, data: Input) {
      return ctx.step(step, async (attempt) => {
        logRun(ctx.executionId, step, "run", attempt);
        await work();
        return data.i * factor;
      });
    },
  });
}

/** W1: one checkpointed step. */
export const single = oneStep("chaos-single", "only", 2);

export const chain = defineTask({
  name: "chaos-chain",
  input,
  async run(ctx, data: Input) {
    let value = data.i;
    for (const [name, next] of [
      ["a", (v: number) => v + 1],
      ["b", (v: number) => v * 2],
      ["c", (v: number) => v - 1],
    ] as const) {
      value = await ctx.step(name, async (attempt) => {
        logRun(ctx.executionId, name, "run", attempt);
        await work();
        return next(value);
      });
    }
    return value;
  },
});

/** Step `a` of the tasks that wait: `i + 1`, logged. */
function firstStep(ctx: WorkflowContext, data: Input): Promise<number> {
  return ctx.step("a", async (attempt) => {
    logRun(ctx.executionId, "a", "run", attempt);
    await work();
    return data.i + 1;
  });
}

export const sleeper = defineTask({
  name: "chaos-sleep",
  input,
  async run(ctx, data: Input) {
    const a = await firstStep(ctx, data);
    await ctx.sleep("nap", "2s");
    return ctx.step("b", (attempt) => {
      logRun(ctx.executionId, "b", "run", attempt);
      return a * 2;
    });
  },
});

/** Parks on `go` (not buffered: the driver delivers it once the execution waits, as a careful client would). */
export const eventWaiter = defineTask({
  name: "chaos-event",
  input,
  async run(ctx, data: Input) {
    const a = await firstStep(ctx, data);
    const payload = await ctx.waitForEvent<{ add: number }>("go", { timeout: "1h" });
    return ctx.step("b", (attempt) => {
      logRun(ctx.executionId, "b", "run", attempt);
      return a + payload.add;
    });
  },
});

/** Its step throws on its first two attempts and succeeds on the third (crashed attempts count too). */
export const flaky = defineTask({
  name: "chaos-flaky",
  input,
  async run(ctx, data: Input) {
    return ctx.step(
      "shaky",
      async (step) => {
        const fails = step.attempt <= 2;
        logRun(ctx.executionId, "shaky", fails ? "throw" : "run", step);
        await work();
        if (fails) throw new Error(`attempt ${step.attempt} fails on purpose`);
        return data.i * 3;
      },
      { retry: { maxAttempts: 12, backoff: "fixed", initialDelay: "20ms" } },
    );
  },
});

export const child = oneStep("chaos-child", "work", 10);

/** Two children, one after the other; the parent parks while each runs. */
export const parent = defineTask({
  name: "chaos-parent",
  input,
  async run(ctx, data: Input) {
    const left = await ctx.runChild("left", child, { i: data.i });
    const right = await ctx.runChild("right", child, { i: data.i + 1 });
    return left + right;
  },
});

/** A poison step: it ends its worker process every time it runs. */
export const poison = defineTask({
  name: "chaos-poison",
  input,
  async run(ctx) {
    await ctx.step("before", (attempt) => {
      logRun(ctx.executionId, "before", "run", attempt);
      return "fine";
    });
    await ctx.step("explode", (attempt) => {
      logRun(ctx.executionId, "explode", "run", attempt);
      process.exit(7);
    });
    return "unreachable";
  },
});

/**
 * The zombie's bait: a step that lasts `ms`, ignores its abort signal, and returns its worker's pid with
 * its value, so the record says which worker's write was accepted.
 */
export const slow = defineTask({
  name: "chaos-slow",
  input: { type: "object", properties: { i: { type: "integer" }, ms: { type: "integer" } }, required: ["i", "ms"] },
  async run(ctx, data: Input & { ms: number }) {
    const done = await ctx.step("slow", async (attempt) => {
      logRun(ctx.executionId, "slow", "run", attempt);
      await delay(data.ms);
      logRun(ctx.executionId, "slow", "end");
      return { i: data.i, pid: process.pid };
    });
    return done.i;
  },
});

export const tick = defineTask({
  name: "chaos-tick",
  async run(ctx) {
    return ctx.step("beat", (attempt) => {
      logRun(ctx.executionId, "beat", "run", attempt);
      return "tick";
    });
  },
});

/** Fires during the whole run (every 5 s unless ZART_CHAOS_CRON says otherwise); the run pauses it to drain. */
export const ticks = defineSchedule({
  schedule_id: "chaos-tick",
  task: tick,
  cron: process.env.ZART_CHAOS_CRON ?? "*/5 * * * * *",
  overlap: "allow",
});
