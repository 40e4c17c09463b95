/**
 * A wait for an execution's end that is woken by an end the execution no longer has when the wait reads it
 * (cancelled, then retried at once) waits on for the rest of its time instead of answering as if that time
 * had run out. Both forms: the promise form (`waitForTerminal`) and the callback form the server's parked
 * long-polls use (`watchTerminal`).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask } from "../src/core/task.js";
import type { ExecutionRecord } from "../src/core/types.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

const approval = defineTask({ name: "approval", run: (ctx) => ctx.waitForEvent<string>("go") });

describe("a wait woken by an end that a retry undid", () => {
  for (const form of ["waitForTerminal", "watchTerminal"] as const) {
    test(`${form}: waits on, and answers the execution's real end`, async () => {
      const h = await createTestEngine({ tasks: [approval] });
      try {
        const { execution } = await h.engine.schedule({ task: "approval", data: {} });
        await h.outcome(execution.id, "parked");
        const answer: Promise<ExecutionRecord> =
          form === "waitForTerminal"
            ? h.engine.waitForTerminal(execution.id, LONG)
            : new Promise((resolve, reject) => h.engine.watchTerminal(execution.id, LONG, (read) => read.then(resolve, reject)));
        let answered: string | null = null;
        void answer.then((e) => {
          answered = e.status;
        });
        // The retry follows the cancel's commit before the woken wait reads the execution.
        await h.engine.cancel(execution.id).then(() => h.engine.retry(execution.id));
        await h.outcome(execution.id, "parked", 2);
        assert.equal(answered, null, "no answer while the retried execution waits");
        assert.equal(await h.engine.deliverEvent(execution.id, "go", '"yes"'), "delivered");
        const done = await answer;
        assert.deepEqual([done.status, done.outputJson], ["completed", '"yes"']);
      } finally {
        await h.close();
      }
    });
  }
});
