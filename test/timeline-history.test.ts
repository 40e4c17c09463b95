/**
 * The step timeline keeps what earlier execution attempts did (operations.md §1, "nothing is overwritten"):
 * a child a cancelled parent's retry started again shows both children, the earlier one as the earlier
 * attempt. In process, on SQLite with a manual clock.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const hold = defineTask({ name: "hold", run: (ctx) => ctx.waitForEvent("go") });
const parent = defineTask({
  name: "parent",
  async run(ctx) {
    return ctx.runChild("kid", hold, {});
  },
});

test("a child started again after a retry: the entry shows the new child, the earlier one as the earlier attempt", async () => {
  const h = await createTestEngine({ tasks: [parent, hold] });
  try {
    const { execution } = await h.engine.schedule({ task: "parent", data: {} });
    await h.outcome(execution.id, "parked");
    const [started] = (await h.engine.steps(execution.id)).entries;
    const first = started?.childExecutionId;
    assert.ok(first);
    await h.outcome(first, "parked");
    h.clock.advance(1000);
    const cancelled = await h.engine.cancel(execution.id);
    assert.equal((await h.engine.get(first)).status, "cancelled", "the child is cancelled with its parent");

    h.clock.advance(1000);
    await h.engine.retry(execution.id);
    await h.outcome(execution.id, "parked", 2);
    const [kid, ...rest] = (await h.engine.steps(execution.id)).entries;
    assert.equal(rest.length, 0);
    const second = kid?.childExecutionId;
    assert.ok(second && second !== first, "the retry started a new child");
    assert.equal(kid?.status, "waiting");
    assert.deepEqual(
      kid?.attempts.map((a) => [a.attempt, a.executionAttempt, a.startedAt, a.endedAt, a.error?.code]),
      [[1, 1, started?.startedAt, cancelled.completedAt, "child_cancelled"]],
    );
    assert.match(kid?.attempts[0]?.error?.message ?? "", new RegExp(first), "the earlier attempt names the earlier child");
    assert.equal(kid?.startedAt, started?.startedAt, "the entry spans both attempts");
  } finally {
    await h.close();
  }
});
