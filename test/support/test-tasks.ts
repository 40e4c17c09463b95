/** Tasks for the HTTP tests: the bundled examples plus a long step that honours cancellation. */
import { defineTask } from "../../src/core/task.js";
import { deferred } from "./deferred.js";

export { echo, flaky, onboarding, sleep } from "../../src/tasks/examples.js";

/**
 * A step that runs until its signal fires (cancel, shutdown) or 60 s pass. It prints
 * `blocker-start <execution>` when it starts and `blocker-end <execution>` when it ends (after its signal,
 * that is its late end), so a test can wait for both.
 */
export const blocker = defineTask({
  name: "blocker",
  async run(ctx) {
    await ctx.step("block", (step) => {
      process.stdout.write(`blocker-start ${ctx.executionId}\n`);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve("done"), 60_000);
        step.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new Error("aborted"));
          process.stdout.write(`blocker-end ${ctx.executionId}\n`);
        });
      });
    });
    return { finished: true };
  },
});

/** Waits for a `ping` event with no payload schema and returns whatever payload arrived. */
export const inbox = defineTask({
  name: "inbox",
  async run(ctx) {
    const payload = await ctx.waitForEvent("ping");
    return { payload };
  },
});

/**
 * A task whose one step (`work`) records each run, says it started, and returns "done" only once `gate`
 * is resolved: a run held mid-step for as long as a test needs.
 */
export function heldStepTask(name: string) {
  const started = deferred();
  const gate = deferred();
  const runs: string[] = [];
  const task = defineTask({
    name,
    async run(ctx) {
      return ctx.step("work", async () => {
        runs.push(ctx.executionId);
        started.resolve();
        await gate.promise;
        return "done";
      });
    },
  });
  return { task, started, gate, runs };
}
