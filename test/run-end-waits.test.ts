/**
 * Waits for an execution this process is running leave nothing behind on the run when they stop first. A
 * long-poll (or `waitForTerminal`) of a run here waits for the run's end; raced with `Promise.race`, every
 * wait that timed out or whose client left kept a reaction on the run's promise until the run ended, so a
 * run in a long step polled again and again held them all (about 600 bytes each).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defineTask } from "../src/core/task.js";
import type { ExecutionRecord } from "../src/core/types.js";
import { waitsOnRun } from "../src/engine/terminal-watch.js";
import { createTestEngine } from "../src/testing/index.js";

const WAITS = 200;

test("aborted waits and stopped watches of a running execution hold nothing on its run", async () => {
  let entered!: () => void;
  const started = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const slow = defineTask({
    name: "slow-step",
    async run(ctx) {
      await ctx.step("hold", () => {
        entered();
        return gate;
      });
      return "done";
    },
  });
  const h = await createTestEngine({ tasks: [slow] });
  try {
    const { execution } = await h.engine.schedule({ task: "slow-step", data: {} });
    await started;
    const run = h.engine.worker?.runOf(execution.id);
    assert.ok(run, "the execution runs in this process");
    // Counts the reactions added to the run's promise from here on (Promise.race adds one through `then`).
    let reactions = 0;
    const then = run.then.bind(run);
    const THEN = "then";
    Reflect.defineProperty(run, THEN, {
      value: (...args: Parameters<typeof then>) => {
        reactions += 1;
        return then(...args);
      },
    });

    for (let i = 0; i < WAITS; i++) {
      const stop = new AbortController();
      const waited = h.engine.waitForTerminal(execution.id, 60_000, stop.signal);
      stop.abort();
      assert.equal((await waited).status, "running");
      let answered!: (result: Promise<ExecutionRecord>) => void;
      const answer = new Promise<Promise<ExecutionRecord>>((resolve) => {
        answered = resolve;
      });
      h.engine.watchTerminal(execution.id, 60_000, answered)();
      const watched = await answer;
      assert.equal((await watched).status, "running");
    }
    assert.equal(h.engine.openWaiters(), 0);
    assert.equal(waitsOnRun(run), 0, "no wait is still registered on the run");
    assert.ok(reactions <= 1, `${reactions} reactions added to the run's promise by ${2 * WAITS} waits`);

    const waiting = h.engine.waitForTerminal(execution.id, 60_000);
    release();
    assert.equal((await waiting).status, "completed");
    assert.equal(waitsOnRun(run), 0);
  } finally {
    release();
    await h.close();
  }
});
