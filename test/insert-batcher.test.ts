/**
 * PostgreSQL's insert batcher (src/store/postgres/insert-batcher.ts), its policy alone: which calls share a
 * statement. Its statements go to a real SQLite store (`createExecutions` / `createExecution`), and the test
 * records each statement's rows. PostgreSQL runs the same batcher under the store behaviour suite.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ZartError } from "../src/core/errors.js";
import { newExecutionId } from "../src/engine/execution-id.js";
import { openStore } from "../src/store/open-store.js";
import { InsertBatcher } from "../src/store/postgres/insert-batcher.js";
import type { NewBatchedExecution, NewQueuedExecution, Store } from "../src/store/store.js";

let dir: string;
let store: Store;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "zart-insert-batcher-"));
  store = await openStore(join(dir, "z.db"));
  await store.migrate();
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A batcher over the store whose statements (rows per statement, in order) are recorded; `gate` holds them. */
function recorded(maxInFlight: number, maxQueued: number) {
  const statements: number[] = [];
  let open: () => void = () => {};
  let gate = Promise.resolve();
  const batcher = new InsertBatcher(
    {
      insertMany: async (inputs) => {
        statements.push(inputs.length);
        await gate;
        // SQLite's own batch takes queued rows only: each row of the batch through the store's insert.
        return Promise.all(inputs.map((input) => store.createExecution(input)));
      },
      insertOne: async (input) => {
        statements.push(1);
        await gate;
        return store.createExecution(input);
      },
      isConnectionError: () => false,
    },
    maxInFlight,
    maxQueued,
  );
  return {
    batcher,
    statements,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
  };
}

const row = (i: number): NewQueuedExecution => ({
  id: newExecutionId(Date.now()),
  task: "t",
  dataJson: `{"i":${i}}`,
  idempotencyKey: null,
  now: 1,
});

test("the calls of one event-loop turn share one statement, even with statements free to start", async () => {
  const { batcher, statements } = recorded(3, 100);
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => batcher.submit(row(i))));
  assert.deepEqual(statements, [5]);
  assert.deepEqual(
    results.map((r) => [r.created, r.execution.dataJson]),
    [0, 1, 2, 3, 4].map((i) => [true, `{"i":${i}}`]),
  );
});

test("calls that arrive while every statement is in flight wait for one to finish and go together", async () => {
  const { batcher, statements, hold, release } = recorded(2, 100);
  hold();
  const first = batcher.submit(row(0));
  await new Promise((resolve) => setImmediate(resolve));
  const second = batcher.submit(row(1));
  await new Promise((resolve) => setImmediate(resolve));
  const waiting = [2, 3, 4].map((i) => batcher.submit(row(i)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(statements, [1, 1], "two statements in flight, the other three wait");
  release();
  await Promise.all([first, second, ...waiting]);
  assert.deepEqual(statements, [1, 1, 3]);
});

test("beyond the bound of waiting rows a call is refused at once with overloaded; the accepted ones are stored", async () => {
  const { batcher, statements, hold, release } = recorded(1, 2);
  hold();
  const accepted = [0, 1].map((i) => batcher.submit(row(i)));
  const refused = batcher.submit(row(2));
  await assert.rejects(refused, (error: unknown) => error instanceof ZartError && error.code === "overloaded");
  release();
  const results = await Promise.all(accepted);
  assert.deepEqual(statements, [2]);
  for (const result of results) assert.equal((await store.getExecution(result.execution.id))?.status, "pending");
});

test("eager starts share statements too: one per creation transition, each row made by its own", async () => {
  const { batcher, statements } = recorded(4, 100);
  const claimFor = { workerId: "w", leaseMs: 60_000 };
  const finished = { transition: "complete" as const, outputJson: "7", at: 2, stepsCompleted: 0 };
  const inputs: NewBatchedExecution[] = [
    row(0),
    { ...row(1), claimFor },
    { ...row(2), claimFor, finished },
    row(3),
    { ...row(4), claimFor },
    { ...row(5), claimFor, finished: { transition: "fail", error: { message: "no", step: null }, at: 2, stepsCompleted: 0 } },
  ];
  const results = await Promise.all(inputs.map((input) => batcher.submit(input)));
  assert.deepEqual(statements, [2, 2, 1, 1], "queued, born claimed, born completed, born failed: in the order each kind first came");
  assert.deepEqual(
    results.map((r) => r.execution.status),
    ["pending", "running", "completed", "pending", "running", "failed"],
  );
});
