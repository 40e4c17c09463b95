/**
 * The bundled example tasks, loaded when `zart-server` starts without `--tasks`, so a new user can
 * try the API at once (see docs/tasks.md for writing your own). Schemas are plain JSON Schema.
 */
import { defineTask } from "../core/task.js";

interface OnboardingInput {
  user_id: string;
  email: string;
}
interface Approval {
  approved: boolean;
  reviewer: string;
  notes?: string;
}

/** Three steps, then a durable wait (up to 24 h) for a manager's approval. */
export const onboarding = defineTask({
  name: "onboarding",
  input: {
    type: "object",
    required: ["user_id", "email"],
    properties: { user_id: { type: "string", minLength: 1 }, email: { type: "string", minLength: 3 } },
  },
  async run(ctx, data: OnboardingInput) {
    const account = await ctx.step("create-account", () => ({ account_id: `acct_${data.user_id}`, email: data.email }));
    await ctx.step("send-welcome-email", () => ({ sent_to: account.email }));
    await ctx.step("provision-resources", () => ({ workspace: `ws_${data.user_id}` }));
    const approval = await ctx.waitForEvent<Approval>("manager-approval", {
      timeout: "24h",
      schema: {
        type: "object",
        required: ["approved", "reviewer"],
        properties: { approved: { type: "boolean" }, reviewer: { type: "string" }, notes: { type: "string" } },
      },
    });
    if (!approval.approved) {
      throw new Error(`Onboarding of ${data.user_id} was rejected by ${approval.reviewer}${approval.notes ? `: ${approval.notes}` : ""}`);
    }
    return { customer_id: `cus_${data.user_id}` };
  },
});

/** Completes with `{ echo: <data> }` after one step. */
export const echo = defineTask({
  name: "echo",
  async run(ctx, data: unknown) {
    const echoed = await ctx.step("echo", () => data);
    return { echo: echoed };
  },
});

/** A durable sleep: the worker slot is free while it sleeps, and it survives restarts. */
export const sleep = defineTask({
  name: "sleep",
  input: { type: "object", required: ["seconds"], properties: { seconds: { type: "number", minimum: 0, maximum: 31_536_000 } } },
  async run(ctx, data: { seconds: number }) {
    await ctx.sleep("nap", data.seconds * 1000);
    return { slept: data.seconds };
  },
});

/** A step that fails its first `failures` attempts (5 attempts at most): with 5 or more the execution fails. */
export const flaky = defineTask({
  name: "flaky",
  input: { type: "object", required: ["failures"], properties: { failures: { type: "integer", minimum: 0 } } },
  async run(ctx, data: { failures: number }) {
    return ctx.step(
      "unreliable",
      (step) => {
        if (step.attempt <= data.failures) throw new Error(`unreliable failed on attempt ${step.attempt} of ${data.failures + 1}`);
        return { attempts: step.attempt };
      },
      { retry: { maxAttempts: 5, backoff: "fixed", initialDelay: 100, jitter: 0 } },
    );
  },
});

export default [onboarding, echo, sleep, flaky];
