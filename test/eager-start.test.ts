import assert from "node:assert/strict";
import { test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";

test("eager start runs the execution here without a claim; the remembered result equals the stored row", async () => {
  const gate = deferred();
  let claims = 0;
  const task = defineTask({
    name: "eager",
    async run(ctx, data: { n: number }) {
      await ctx.step("wait", () => gate.promise);
      return { doubled: data.n * 2 };
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 1 } });
  const claim = h.store.claim.bind(h.store);
  h.store.claim = async (request) => {
    const claimed = await claim(request);
    claims += claimed.length;
    return claimed;
  };
  try {
    const first = await h.engine.schedule({ task: "eager", data: { n: 21 }, eager: true });
    assert.equal(first.execution.status, "running", "born running: no pending phase");
    // The only slot is taken, so a second eager request queues like any other.
    const second = await h.engine.schedule({ task: "eager", data: { n: 1 }, eager: true });
    assert.equal(second.execution.status, "pending");
    gate.resolve();
    const done = await h.engine.waitForTerminal(first.execution.id, 1e9);
    assert.deepEqual(JSON.parse(done.outputJson ?? "null"), { doubled: 42 });
    assert.deepEqual(done, await h.store.getExecution(first.execution.id), "the in-memory terminal record is exactly the stored one");
    assert.equal((await h.engine.waitForTerminal(second.execution.id, 1e9)).status, "completed");
    assert.equal(claims, 1, "only the queued execution needed a claim");
  } finally {
    await h.close();
  }
});
