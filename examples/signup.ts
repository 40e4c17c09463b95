/**
 * The README's 30-second example: `npx zart-server --tasks ./examples/signup.ts`.
 * The step bodies stand in for real calls (create an account, send an email).
 */
import { randomUUID } from "node:crypto";
import { defineTask } from "zart";

export const signup = defineTask({
  name: "signup",
  input: { type: "object", properties: { email: { type: "string" } }, required: ["email"] },
  timeout: "48h",
  events: "buffered", // an approval sent before the wait is kept for it
  async run(ctx, data) {
    // data: { email: string }, from the input schema
    const account = await ctx.step("create-account", () => ({ id: `acct_${randomUUID()}` }));
    await ctx.step("send-welcome-email", () => ctx.log.info({ to: data.email }, "welcome email sent"), { retry: { maxAttempts: 5 } });
    await ctx.sleep("settle", "2s"); // durable: survives restarts
    const approval = await ctx.waitForEvent("approval", {
      timeout: "24h",
      schema: { type: "object", properties: { approved: { type: "boolean" } }, required: ["approved"] },
    });
    return { account: account.id, approved: approval.approved };
  },
});
