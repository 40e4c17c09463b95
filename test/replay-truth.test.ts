/**
 * A replay returns exactly what the first run saw: a task-level retry keeps the failures the workflow
 * caught; `undefined` comes back as `undefined`; changed code that reaches a record as another kind of
 * call is detected; input is validated once, when the execution is created.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StepFailedError } from "../src/core/errors.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("task-level retry", () => {
  test("only the failure that escaped run() is discarded; a caught failure replays as a failure", async () => {
    const charges: string[] = [];
    const emails: string[] = [];
    let shipAttempts = 0;
    const task = defineTask({
      name: "checkout",
      retry: { maxAttempts: 2, initialDelay: 10, jitter: 0 },
      async run(ctx) {
        let paid = true;
        try {
          await ctx.step("charge", () => {
            charges.push(`attempt ${ctx.attempt}`);
            throw new Error("card declined");
          });
        } catch (error) {
          if (!(error instanceof StepFailedError)) throw error;
          paid = false;
          await ctx.step("email-declined", () => emails.push("declined"));
        }
        // Fails the first time only: the execution-level retry re-runs this step, not the ones before.
        await ctx.step("ship", () => {
          shipAttempts += 1;
          if (shipAttempts === 1) throw new Error("warehouse down");
          return "shipped";
        });
        return { paid };
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "checkout", data: {} });
      await h.outcome(execution.id, "requeued");
      h.clock.advance(10);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { paid: false }, "attempt 2 took the same branch");
      assert.deepEqual(charges, ["attempt 1"], "the caught failure was not turned into a second charge");
      assert.deepEqual(emails, ["declined"]);
      assert.equal(done.attempt, 2);
      const detail = await h.engine.stepDetail(execution.id);
      const states = Object.fromEntries(detail.steps.map((s) => [s.name, [s.state, s.attempts]]));
      assert.deepEqual(states, { charge: ["failed", 1], "email-declined": ["completed", 1], ship: ["completed", 2] });
      assert.deepEqual(
        detail.attempts.map((a) => [a.step, a.attempt, a.executionAttempt]),
        [
          ["charge", 1, 1],
          ["ship", 1, 1],
        ],
        "every failed attempt is kept, with the execution attempt it belonged to; numbering goes on",
      );
    } finally {
      await h.close();
    }
  });
});

describe("undefined", () => {
  test("a step returning undefined replays as undefined, so a replay takes the same branch", async () => {
    const branches: string[] = [];
    const task = defineTask({
      name: "maybe",
      async run(ctx) {
        const found = await ctx.step("lookup", () => undefined as string | undefined);
        branches.push(found === undefined ? "missing" : "found");
        await ctx.sleep("pause", "1s");
        return { found: found ?? null, nested: { kept: 1, dropped: undefined } };
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "maybe", data: {} });
      await h.outcome(execution.id, "parked");
      h.clock.advance(1000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed", "undefined inside an output is dropped as JSON drops it, not a failure");
      assert.deepEqual(branches, ["missing", "missing"], "the first run and the replay took the same branch");
      assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { found: null, nested: { kept: 1 } });
      const lookup = (await h.engine.stepDetail(execution.id)).steps.find((s) => s.name === "lookup");
      assert.equal(lookup?.resultJson, null, "recorded as undefined");
    } finally {
      await h.close();
    }
  });

  test("the first run sees a result as a replay will: undefined properties are gone already", async () => {
    const seen: boolean[] = [];
    const task = defineTask({
      name: "keys",
      async run(ctx) {
        const value = await ctx.step("make", () => ({ a: 1, b: undefined }));
        seen.push("b" in value);
        return "ok";
      },
    });
    const h = await createTestEngine({ tasks: [task] });
    try {
      const { execution } = await h.engine.schedule({ task: "keys", data: {} });
      assert.equal((await h.engine.waitForTerminal(execution.id, LONG)).status, "completed");
      assert.deepEqual(seen, [false]);
    } finally {
      await h.close();
    }
  });
});

describe("changed code", () => {
  test("a record reached as another kind of call fails the execution with nondeterminism, naming it", async () => {
    const v1 = defineTask({
      name: "approval-flow",
      async run(ctx) {
        return ctx.waitForEvent("approval");
      },
    });
    const v2 = defineTask({
      name: "approval-flow",
      async run(ctx) {
        const first = await ctx.step("approval", () => "auto-approved");
        return first;
      },
    });
    const h = await createTestEngine({ tasks: [v1] });
    try {
      const { execution } = await h.engine.schedule({ task: "approval-flow", data: {} });
      await h.outcome(execution.id, "parked");
      await h.restart({ tasks: [v2] });
      await h.engine.deliverEvent(execution.id, "approval", '"yes"');
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "failed");
      assert.equal(done.error?.code, "nondeterminism");
      assert.match(done.error?.message ?? "", /"approval" as a step, but this execution recorded it as an event wait/);
    } finally {
      await h.close();
    }
  });
});

describe("input validation", () => {
  test("data is validated once, at creation: a later stricter schema does not fail executions already accepted", async () => {
    const lenient = defineTask({
      name: "signup-flow",
      input: { type: "object", properties: { email: { type: "string" } }, required: ["email"] },
      async run(ctx, data: { email: string }) {
        await ctx.sleep("settle", "1m");
        return data.email;
      },
    });
    const strict = defineTask({
      name: "signup-flow",
      input: { type: "object", properties: { email: { type: "string" }, plan: { type: "string" } }, required: ["email", "plan"] },
      async run(ctx, data: { email: string }) {
        await ctx.sleep("settle", "1m");
        return data.email;
      },
    });
    const h = await createTestEngine({ tasks: [lenient] });
    try {
      const { execution } = await h.engine.schedule({ task: "signup-flow", data: { email: "a@example.com" } });
      await h.outcome(execution.id, "parked");
      await h.restart({ tasks: [strict] });
      h.clock.advance(60_000);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed");
      await assert.rejects(h.engine.schedule({ task: "signup-flow", data: { email: "b@example.com" } }), {
        code: "invalid_data",
        message: /plan/,
      });
    } finally {
      await h.close();
    }
  });
});
