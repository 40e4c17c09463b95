/**
 * The terminal cache keeps only small records. Its entries are dropped when newer ones push them out, not
 * when their time is up, so what bounds its memory is the size of each record it keeps: all of a record's
 * values (input data, output, error), not only the output. A record with a large input used to be kept
 * whole, and a few hundred executions with inputs near the payload limit held hundreds of MB for good.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import type { ExecutionRecord } from "../src/core/types.js";
import { TerminalCache } from "../src/engine/terminal-cache.js";
import { createTestEngine } from "../src/testing/index.js";

const LARGE = 16 * 1024 + 1;

describe("the terminal cache's size bound", () => {
  const record = (id: string) =>
    ({ id, status: "completed", dataJson: "{}", outputJson: '"ok"', error: null }) as unknown as ExecutionRecord;

  test("a record read with a large input or a large error is not kept; a small one is", () => {
    const cache = new TerminalCache(() => 0);
    cache.remember({ ...record("exec-data"), dataJson: JSON.stringify("x".repeat(LARGE)) });
    cache.remember({
      ...record("exec-error"),
      status: "failed",
      outputJson: null,
      error: { message: "m".repeat(LARGE), step: null },
    });
    cache.remember(record("exec-small"));
    assert.equal(cache.has("exec-data"), false);
    assert.equal(cache.has("exec-error"), false);
    assert.equal(cache.has("exec-small"), true);
  });

  test("an execution this process ran is served from memory only when its input is small", async () => {
    const echo = defineTask({ name: "echo-length", run: async (_ctx, data: { s: string }) => data.s.length });
    const h = await createTestEngine({ tasks: [echo] });
    try {
      let reads = 0;
      const getExecution = h.store.getExecution.bind(h.store);
      h.store.getExecution = (id) => {
        reads += 1;
        return getExecution(id);
      };
      const readsOf = async (id: string) => {
        reads = 0;
        await h.engine.get(id);
        await h.engine.get(id);
        return reads;
      };

      const small = await h.engine.schedule({ task: "echo-length", data: { s: "x" } });
      assert.equal((await h.engine.waitForTerminal(small.execution.id, 10_000)).status, "completed");
      assert.equal(await readsOf(small.execution.id), 0, "a small record is served from memory");

      const large = await h.engine.schedule({ task: "echo-length", data: { s: "x".repeat(LARGE) } });
      assert.equal((await h.engine.waitForTerminal(large.execution.id, 10_000)).status, "completed");
      assert.equal(await readsOf(large.execution.id), 2, "a record with a large input is read each time, never kept");
    } finally {
      await h.close();
    }
  });
});
