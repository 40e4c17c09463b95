/**
 * Eager start and its neighbours in one process (SQLite through createTestEngine): an execution scheduled
 * where its worker has a free slot is inserted born claimed and runs without a claim, or born finished when
 * it ends without a step; the insert is held for the run's first write; prefetch; waits served from the
 * run or the terminal cache; a held idempotency key; and what never starts eagerly (prioritised work, calls
 * beyond the free slots). Long because each case sets up its own engine (and, where it counts writes, a
 * write log).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { defineTask } from "../src/core/task.js";
import { Engine } from "../src/engine/engine.js";
import { createTestEngine } from "../src/testing/index.js";
import { deferred } from "./support/deferred.js";
import { recordWrites } from "./support/write-log.js";

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
  // Claims happen on their own or folded into a checkpoint flush: count the rows either way takes.
  const claim = h.store.claim.bind(h.store);
  h.store.claim = async (request) => {
    const result = await claim(request);
    claims += result.claimed.length;
    return result;
  };
  const applyAndClaim = h.store.applyAndClaim.bind(h.store);
  h.store.applyAndClaim = async (batch, request) => {
    const result = await applyAndClaim(batch, request);
    claims += result.claim.claimed.length;
    return result;
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

test("prefetch claims beyond the free slots in one round trip; shutdown hands the buffer back at once", async () => {
  const gate = deferred();
  const holding = deferred();
  const task = defineTask({
    name: "prefetched",
    async run(ctx, data: { n: number }) {
      if (data.n === 0)
        await ctx.step("hold", () => {
          holding.resolve();
          return gate.promise;
        });
      return data.n;
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: false });
  try {
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push((await h.engine.schedule({ task: "prefetched", data: { n } })).execution.id);
    await h.restart({ worker: { concurrency: 1, prefetch: 4 } });
    await holding.promise;
    // One slot, held by n=0, yet nothing is pending: all five were claimed in one round trip; those
    // ahead of n=0 (claimed oldest first, same instant, so by id) ran, the rest wait in the buffer
    // leased to this worker (without prefetch: pending). A finished run gives up its slot while its
    // completion commits, so wait for those commits before counting.
    const ahead = ids.filter((id) => id < ids[0]!);
    for (const id of ahead) assert.equal((await h.engine.waitForTerminal(id, 1e9)).status, "completed");
    const counts = await h.store.countByStatus();
    assert.equal(counts.completed, ahead.length);
    assert.equal(counts.pending, 0);
    assert.equal(counts.running + counts.completed, 5);
    assert.ok(counts.running >= 1);
    const stopping = h.engine.stop();
    await h.clock.whenSleeping(1); // the shutdown grace period
    h.clock.advance(10_000);
    await stopping;
    const after = await h.store.countByStatus();
    assert.deepEqual(
      [after.pending, after.running, after.completed],
      [counts.running, 0, counts.completed],
      "the running and buffered ones are handed back",
    );
    assert.equal((await h.store.getExecution(ids[0]!))?.status, "pending");
    gate.resolve();
    await h.restart({ worker: { concurrency: 2, prefetch: 2 } });
    for (const id of ids) assert.equal((await h.engine.waitForTerminal(id, 1e9)).status, "completed");
  } finally {
    gate.resolve();
    await h.close();
  }
});

test("waiting for an execution this process runs needs no read; one that parks is then waited for as usual", async () => {
  const gate = deferred();
  const task = defineTask({
    name: "local-wait",
    async run(ctx, data: { sleep: boolean }) {
      await ctx.step("wait", () => gate.promise);
      if (data.sleep) await ctx.sleep("nap", 1000);
      return "done";
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2 } });
  const reads: string[] = [];
  const getExecution = h.store.getExecution.bind(h.store);
  h.store.getExecution = (id) => {
    reads.push(id);
    return getExecution(id);
  };
  try {
    const quick = await h.engine.schedule({ task: "local-wait", data: { sleep: false } });
    const napping = await h.engine.schedule({ task: "local-wait", data: { sleep: true } });
    assert.deepEqual([quick.execution.status, napping.execution.status], ["running", "running"], "both started eagerly");
    const quickDone = h.engine.waitForTerminal(quick.execution.id, 1e9);
    const napDone = h.engine.waitForTerminal(napping.execution.id, 1e9);
    gate.resolve();
    assert.equal((await quickDone).status, "completed");
    assert.ok(!reads.includes(quick.execution.id), "the run's own end answered the wait");
    await h.outcome(napping.execution.id, "parked");
    h.clock.advance(1000);
    const done = await napDone;
    assert.equal(done.status, "completed");
    assert.equal(done.outputJson, '"done"');
    assert.ok(reads.includes(napping.execution.id), "a parked run was read and waited for");
  } finally {
    await h.close();
  }
});

test("an eager run that ends without a step is inserted finished: one write, answered as completed or failed", async () => {
  const task = defineTask({
    name: "instant",
    retry: { maxAttempts: 1 },
    async run(_ctx, data: { fail: boolean }) {
      if (data.fail) throw new Error("no");
      return { ok: true };
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2 } });
  const writes = recordWrites(h.store);
  try {
    const ok = await h.engine.schedule({ task: "instant", data: { fail: false } });
    assert.deepEqual([ok.created, ok.execution.status, ok.execution.outputJson], [true, "completed", '{"ok":true}']);
    const done = await h.engine.waitForTerminal(ok.execution.id, 1e9);
    assert.deepEqual(done, await h.store.getExecution(ok.execution.id), "the remembered record is exactly the stored one");
    const bad = await h.engine.schedule({ task: "instant", data: { fail: true } });
    assert.deepEqual([bad.execution.status, bad.execution.error?.message], ["failed", "no"]);
    assert.deepEqual(writes, ["insert completed", "insert failed"]);
    assert.deepEqual((await h.store.countByStatus()).running, 0);
  } finally {
    await h.close();
  }
});

test("an eager run's first step starts only once its row is stored; a run waiting outside ctx is inserted at the turn's end", async () => {
  const outside = deferred();
  const seen: Array<string | null> = [];
  const task = defineTask({
    name: "stepper",
    async run(ctx, data: { wait: boolean }) {
      if (data.wait) await outside.promise;
      await ctx.step("look", async () => {
        seen.push((await h.store.getExecution(ctx.executionId))?.status ?? null);
      });
      return "done";
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2 } });
  const writes = recordWrites(h.store);
  try {
    const first = await h.engine.schedule({ task: "stepper", data: { wait: false } });
    assert.equal(first.execution.status, "running");
    assert.equal((await h.engine.waitForTerminal(first.execution.id, 1e9)).status, "completed");
    assert.deepEqual(seen, ["running"], "the step saw its execution's row");
    // The run is blocked on its own promise, yet schedule() answers: the insert went at the end of the turn.
    const second = await h.engine.schedule({ task: "stepper", data: { wait: true } });
    assert.equal((await h.store.getExecution(second.execution.id))?.status, "running");
    outside.resolve();
    assert.equal((await h.engine.waitForTerminal(second.execution.id, 1e9)).status, "completed");
    assert.deepEqual(seen, ["running", "running"]);
    assert.deepEqual(writes, ["insert running", "checkpoint completed +look", "insert running", "checkpoint completed +look"]);
  } finally {
    outside.resolve();
    await h.close();
  }
});

test("an eager start whose idempotency key is held: schedule answers the holder and nothing of the new run is written or run", async () => {
  let charged = 0;
  const task = defineTask({
    name: "charge",
    async run(ctx) {
      await ctx.step("charge", () => {
        charged += 1;
      });
      return charged;
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2 } });
  const writes = recordWrites(h.store);
  try {
    const first = await h.engine.schedule({ task: "charge", data: {}, idempotencyKey: "order-1" });
    assert.equal((await h.engine.waitForTerminal(first.execution.id, 1e9)).status, "completed");
    const again = await h.engine.schedule({ task: "charge", data: {}, idempotencyKey: "order-1" });
    assert.deepEqual([again.created, again.execution.id, again.execution.status], [false, first.execution.id, "completed"]);
    const ended = await h.log.waitFor((o) => o.task === "charge", 2);
    assert.equal(ended.outcome, "aborted", "the refused run was dropped");
    assert.equal(charged, 1, "the step never ran for the refused insert");
    assert.deepEqual(writes, ["insert running", "checkpoint completed +charge", "insert running (held key)"]);
    assert.equal((await h.store.listExecutions({ limit: 10, offset: 0, order: "asc" })).executions.length, 1);
  } finally {
    await h.close();
  }
});

test("a lease renewal while an eager run's insert is in flight leaves the run alone", async () => {
  const task = defineTask({
    name: "slow-birth",
    async run(ctx) {
      return await ctx.step("one", () => 1);
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2, leaseMs: 3000 } });
  const inserting = deferred();
  const release = deferred();
  const create = h.store.createExecution.bind(h.store);
  h.store.createExecution = async (input) => {
    inserting.resolve();
    await release.promise;
    return create(input);
  };
  const renewed: string[] = [];
  const renew = h.store.renewLeases.bind(h.store);
  h.store.renewLeases = async (fences, now, leaseMs) => {
    renewed.push(...fences.map((f) => f.executionId));
    return renew(fences, now, leaseMs);
  };
  try {
    const scheduled = h.engine.schedule({ task: "slow-birth", data: {} });
    await inserting.promise;
    h.clock.advance(1000); // a third of the lease: the renewal runs while the row does not exist yet
    assert.deepEqual(renewed, [], "nothing to renew before the row exists");
    release.resolve();
    const { execution } = await scheduled;
    const done = await h.engine.waitForTerminal(execution.id, 1e9);
    assert.deepEqual([done.status, done.outputJson], ["completed", "1"]);
  } finally {
    release.resolve();
    await h.close();
  }
});

test("a finished execution read once is served from memory afterwards; one still running is read each time", async () => {
  const gate = deferred();
  const task = defineTask({
    name: "read-me",
    async run(ctx, data: { hold: boolean }) {
      if (data.hold) await ctx.step("hold", () => gate.promise);
      return "ok";
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2 } });
  // A second engine on the same store that runs nothing: it knows these executions only from the store.
  const reader = await Engine.start({ store: h.store, tasks: [task], worker: false, clock: h.clock, migrate: false });
  try {
    const done = (await h.engine.schedule({ task: "read-me", data: { hold: false } })).execution.id;
    const held = (await h.engine.schedule({ task: "read-me", data: { hold: true } })).execution.id;
    assert.equal((await h.engine.waitForTerminal(done, 1e9)).status, "completed");
    const reads: string[] = [];
    const getExecution = h.store.getExecution.bind(h.store);
    h.store.getExecution = (id) => {
      reads.push(id);
      return getExecution(id);
    };
    for (let i = 0; i < 3; i++) assert.equal((await reader.get(done)).status, "completed");
    for (let i = 0; i < 3; i++) assert.equal((await reader.get(held)).status, "running");
    assert.deepEqual([reads.filter((id) => id === done).length, reads.filter((id) => id === held).length], [1, 3]);
  } finally {
    gate.resolve();
    await reader.stop();
    await h.close();
  }
});

test("an eager run that parks before any step: the row is inserted first, then the park is written", async () => {
  const task = defineTask({
    name: "nap-first",
    async run(ctx) {
      await ctx.sleep("nap", 1000);
      return "rested";
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 2 } });
  // The insert takes a few event-loop turns (as a network round trip would), so a park written without
  // waiting for it would reach the store first and find no row.
  const create = h.store.createExecution.bind(h.store);
  h.store.createExecution = async (input) => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    return create(input);
  };
  const writes = recordWrites(h.store);
  try {
    const { execution } = await h.engine.schedule({ task: "nap-first", data: {} });
    await h.outcome(execution.id, "parked");
    assert.deepEqual(writes, ["insert running", "checkpoint waiting +nap"]);
    assert.equal((await h.store.getExecution(execution.id))?.status, "waiting");
    h.clock.advance(1000);
    assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).outputJson, '"rested"');
  } finally {
    await h.close();
  }
});

test("schedule calls made together start here while slots are free; the rest queue", async () => {
  const gate = deferred();
  const task = defineTask({
    name: "together",
    async run(ctx, data: { n: number }) {
      await ctx.step("wait", () => gate.promise);
      return data.n;
    },
  });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 3 } });
  try {
    // Three slots free and nothing queued: three of the four start here (docs/decisions/046-shared-eager-inserts.md).
    const results = await Promise.all([1, 2, 3, 4].map((n) => h.engine.schedule({ task: "together", data: { n } })));
    assert.deepEqual(
      results.map((r) => r.execution.status),
      ["running", "running", "running", "pending"],
      "one start per free slot; the fourth queues",
    );
    gate.resolve();
    for (const r of results) assert.equal((await h.engine.waitForTerminal(r.execution.id, 1e9)).status, "completed");
  } finally {
    gate.resolve();
    await h.close();
  }
});

test("a prioritised execution never starts here, even when asked to: it goes through a claim", async () => {
  const task = defineTask({ name: "ranked", run: (_ctx, data: { n: number }) => data.n });
  const h = await createTestEngine({ tasks: [task], worker: { concurrency: 5 } });
  try {
    for (const eager of [undefined, true]) {
      const { execution } = await h.engine.schedule({ task: "ranked", data: { n: 1 }, priority: 3, eager });
      assert.equal(execution.status, "pending", `eager: ${eager}`);
      assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).status, "completed");
    }
  } finally {
    await h.close();
  }
});
