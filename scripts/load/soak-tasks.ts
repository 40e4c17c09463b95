/**
 * The soak's task module (loaded by `zart-server --tasks`): a W1-style chain of three checkpointed steps,
 * a chain with a durable sleep in the middle, and a chain that parks on an event. Event waits keep
 * early events (`events: "buffered"`), so the load driver can send the event whenever it likes.
 */
import { defineTask } from "../../src/core/task.js";

interface Input {
  i: number;
}

export const soakChain = defineTask({
  name: "soak-chain",
  async run(ctx, data: Input) {
    const a = await ctx.step("a", () => data.i + 1);
    const b = await ctx.step("b", () => a * 2);
    return ctx.step("c", () => b - 1);
  },
});

export const soakSleep = defineTask({
  name: "soak-sleep",
  async run(ctx, data: Input) {
    const a = await ctx.step("a", () => data.i + 1);
    await ctx.sleep("pause", "1s");
    return ctx.step("b", () => a * 2);
  },
});

export const soakEvent = defineTask({
  name: "soak-event",
  events: "buffered",
  async run(ctx, data: Input) {
    const a = await ctx.step("a", () => data.i + 1);
    const payload = await ctx.waitForEvent<{ add: number }>("go", { timeout: "1h" });
    return ctx.step("b", () => a + payload.add);
  },
});
