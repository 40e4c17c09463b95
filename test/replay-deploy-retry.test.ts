/**
 * A step whose result no store can hold fails the execution (a definition error); once a fix is
 * deployed, retrying the execution runs that step again with the new code.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("a definition error fixed by a deploy", () => {
  test("a step whose result was refused runs again with the fixed code when the execution is retried", async () => {
    const broken = defineTask({
      name: "stamp-flow",
      async run(ctx) {
        return ctx.step("stamp", () => new Date(0) as unknown as string);
      },
    });
    const fixed = defineTask({
      name: "stamp-flow",
      async run(ctx) {
        return ctx.step("stamp", () => new Date(0).toISOString());
      },
    });
    const h = await createTestEngine({ tasks: [broken] });
    try {
      const { execution } = await h.engine.schedule({ task: "stamp-flow", data: {} });
      const failed = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(failed.status, "failed");
      assert.equal(failed.error?.code, "not_serializable");
      assert.equal(failed.error?.step, "stamp", "the execution's error names the step, as any step failure does");
      await h.restart({ tasks: [fixed] });
      await h.engine.retry(execution.id);
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.equal(done.status, "completed", `the retry failed again: ${JSON.stringify(done.error?.message)}`);
      assert.equal(JSON.parse(done.outputJson ?? "null"), "1970-01-01T00:00:00.000Z");
    } finally {
      await h.close();
    }
  });
});
