/**
 * Schedules in the store: create / read / list / delete, pause and resume, the code sync, one
 * scheduler pass's reads, and ticks under each overlap policy, including two store instances racing for
 * the same tick. Tick times are explicit (the engine computes them with croner; the store never does).
 *
 * Long because it is a list of small cases, each run on both stores; the suite is split by area
 * across the store-behaviour-*.ts files.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NewSchedule, ScheduleRecord, ScheduleTick } from "../../src/store/schedule-records.js";
import type { NewExecution, Store } from "../../src/store/store.js";
import { NoticeRecorder, newId, type SuiteContext, T0 } from "./store-fixtures.js";

const MINUTE = 60_000;

function newSchedule(over: Partial<NewSchedule> = {}): NewSchedule {
  return {
    scheduleId: "nightly",
    task: "report",
    cron: "* * * * *",
    timezone: "UTC",
    dataJson: '{"format": "pdf"}',
    overlap: "skip",
    paused: false,
    source: "api",
    nextTickAt: T0 + MINUTE,
    now: T0,
    ...over,
  };
}

function tickExecution(schedule: ScheduleRecord, tickAt: number, now = tickAt): NewExecution {
  return {
    id: newId(),
    task: schedule.task,
    dataJson: schedule.dataJson,
    idempotencyKey: `schedule:${schedule.scheduleId}:${new Date(tickAt).toISOString()}`,
    now,
    scheduleId: schedule.scheduleId,
  };
}

/** The tick the schedule is due at, one minute apart, starting an execution of its data. */
function tickOf(schedule: ScheduleRecord, over: Partial<ScheduleTick> = {}): ScheduleTick {
  const dueAt = schedule.nextTickAt as number;
  return {
    scheduleId: schedule.scheduleId,
    dueAt,
    revision: schedule.revision,
    createdAt: schedule.createdAt,
    tickAt: dueAt,
    nextTickAt: dueAt + MINUTE,
    execution: tickExecution(schedule, dueAt),
    ...over,
  };
}

async function stored(store: Store, id = "nightly"): Promise<ScheduleRecord> {
  const schedule = await store.getSchedule(id);
  assert.ok(schedule, `schedule ${id} is stored`);
  return schedule;
}

async function created(store: Store, over: Partial<NewSchedule> = {}): Promise<ScheduleRecord> {
  const schedule = await store.createSchedule(newSchedule(over));
  assert.ok(schedule, "a new id is inserted");
  return schedule;
}

/** Fires the schedule's due tick; asserts it started an execution and returns that execution's id. */
async function fireStarted(store: Store, id = "nightly"): Promise<string> {
  const result = await store.fireScheduleTick(tickOf(await stored(store, id)));
  assert.equal(result.outcome, "started");
  assert.ok(result.outcome === "started" && result.created);
  return result.execution.id;
}

export function scheduleBehaviour(ctx: SuiteContext): void {
  test("createSchedule / getSchedule / listSchedules / deleteSchedule; a taken id is refused", async () => {
    const first = await created(ctx.store, { dataJson: '{ "a":  1 }' });
    assert.deepEqual(first, {
      scheduleId: "nightly",
      task: "report",
      cron: "* * * * *",
      timezone: "UTC",
      dataJson: '{ "a":  1 }',
      overlap: "skip",
      paused: false,
      source: "api",
      createdAt: T0,
      updatedAt: T0,
      revision: 0,
      nextTickAt: T0 + MINUTE,
      lastTickAt: null,
      lastExecutionId: null,
      heldTickAt: null,
      declaredJson: null,
    });
    assert.deepEqual(await ctx.store.getSchedule("nightly"), first);
    assert.equal(await ctx.store.createSchedule(newSchedule({ task: "other" })), null, "the id is taken");
    assert.equal((await stored(ctx.store)).task, "report", "the refused create changed nothing");
    const paused = await created(ctx.store, { scheduleId: "a-first", paused: true, nextTickAt: T0 + 5 });
    assert.equal(paused.nextTickAt, null, "a schedule created paused has no next tick");
    assert.deepEqual(
      (await ctx.store.listSchedules()).map((s) => s.scheduleId),
      ["a-first", "nightly"],
    );
    assert.equal(await ctx.store.deleteSchedule("nightly"), true);
    assert.equal(await ctx.store.deleteSchedule("nightly"), false);
    assert.equal(await ctx.store.getSchedule("nightly"), null);
    assert.deepEqual(
      (await ctx.store.listSchedules()).map((s) => s.scheduleId),
      ["a-first"],
    );
  });

  test("setSchedulePaused: pause drops the next and the held tick; a repeat changes nothing; resume sets the next tick", async () => {
    await created(ctx.store, { overlap: "buffer_one" });
    await fireStarted(ctx.store);
    const held = await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store)));
    assert.equal(held.outcome, "held");
    const paused = await ctx.store.setSchedulePaused({ scheduleId: "nightly", paused: true, nextTickAt: null, now: T0 + 10 });
    assert.deepEqual(paused && [paused.paused, paused.nextTickAt, paused.heldTickAt, paused.revision, paused.updatedAt], [
      true,
      null,
      null,
      1,
      T0 + 10,
    ]);
    const again = await ctx.store.setSchedulePaused({ scheduleId: "nightly", paused: true, nextTickAt: null, now: T0 + 20 });
    assert.deepEqual(again, paused, "pausing a paused schedule changes nothing");
    const resumed = await ctx.store.setSchedulePaused({ scheduleId: "nightly", paused: false, nextTickAt: T0 + 9 * MINUTE, now: T0 + 30 });
    assert.deepEqual(resumed && [resumed.paused, resumed.nextTickAt, resumed.revision, resumed.updatedAt], [
      false,
      T0 + 9 * MINUTE,
      2,
      T0 + 30,
    ]);
    const resumedAgain = await ctx.store.setSchedulePaused({ scheduleId: "nightly", paused: false, nextTickAt: T0, now: T0 + 40 });
    assert.deepEqual(resumedAgain, resumed, "resuming an active schedule changes nothing");
    assert.equal(await ctx.store.setSchedulePaused({ scheduleId: "none", paused: true, nextTickAt: null, now: T0 }), null);
  });

  test("fireScheduleTick: starts the tick's execution and moves the schedule on, once; a repeat is stale", async () => {
    const schedule = await created(ctx.store);
    const notices = new NoticeRecorder(ctx.store);
    try {
      const tick = tickOf(schedule);
      const result = await ctx.store.fireScheduleTick(tick);
      assert.equal(result.outcome, "started");
      if (result.outcome !== "started") return;
      assert.equal(result.created, true);
      const execution = result.execution;
      assert.deepEqual(
        [execution.task, execution.status, execution.dataJson, execution.scheduleId, execution.idempotencyKey],
        ["report", "pending", '{"format": "pdf"}', "nightly", `schedule:nightly:${new Date(T0 + MINUTE).toISOString()}`],
      );
      assert.deepEqual(await ctx.store.getExecution(execution.id), execution);
      await notices.waitFor((n) => n.kind === "runnable" && n.task === "report", "the new execution wakes workers");
      const after = await stored(ctx.store);
      assert.deepEqual(
        [after.nextTickAt, after.lastTickAt, after.lastExecutionId, after.revision, after.updatedAt],
        [T0 + 2 * MINUTE, T0 + MINUTE, execution.id, 0, T0],
      );
      assert.deepEqual(await ctx.store.fireScheduleTick({ ...tick, execution: tickExecution(schedule, T0 + MINUTE) }), {
        outcome: "stale",
      });
      const stale = await ctx.store.fireScheduleTick({ ...tickOf(after), revision: after.revision + 1 });
      assert.deepEqual(stale, { outcome: "stale" }, "a tick computed from another revision is refused");
      assert.equal((await ctx.store.listExecutions({ task: "report", limit: 10, offset: 0, order: "asc" })).total, 1);
    } finally {
      notices.unsubscribe();
    }
  });

  test("fireScheduleTick: two store instances racing for the same ticks start one execution per tick", async () => {
    const peer = await ctx.peer();
    await created(ctx.store, { overlap: "allow" });
    for (let i = 0; i < 5; i++) {
      const schedule = await stored(ctx.store);
      const results = await Promise.all([
        ctx.store.fireScheduleTick(tickOf(schedule)),
        peer.fireScheduleTick(tickOf(schedule)),
        ctx.store.fireScheduleTick(tickOf(schedule)),
      ]);
      assert.deepEqual(results.map((r) => r.outcome).sort(), ["stale", "stale", "started"], `tick ${i}`);
    }
    const listed = await ctx.store.listExecutions({ task: "report", limit: 10, offset: 0, order: "asc" });
    assert.equal(listed.total, 5);
    assert.equal(new Set(listed.executions.map((e) => e.idempotencyKey)).size, 5);
  });

  test("fireScheduleTick with skip: skipped while the previous execution has not ended, started after", async () => {
    await created(ctx.store);
    const previous = await fireStarted(ctx.store);
    assert.deepEqual(await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store))), { outcome: "skipped" });
    const skipped = await stored(ctx.store);
    assert.deepEqual([skipped.nextTickAt, skipped.lastExecutionId, skipped.heldTickAt], [T0 + 3 * MINUTE, previous, null]);
    await ctx.store.cancelExecution(previous, T0 + 3 * MINUTE);
    const next = await fireStarted(ctx.store);
    assert.notEqual(next, previous);
    assert.equal((await stored(ctx.store)).lastTickAt, T0 + 3 * MINUTE);
  });

  test("fireScheduleTick with allow: starts whatever the previous execution does", async () => {
    await created(ctx.store, { overlap: "allow" });
    const first = await fireStarted(ctx.store);
    const second = await fireStarted(ctx.store);
    assert.notEqual(first, second);
    assert.equal((await ctx.store.getExecution(first))?.status, "pending");
    assert.equal((await stored(ctx.store)).lastExecutionId, second);
  });

  test("buffer_one: holds one tick while the previous runs, skips more, releases the held tick once it ended", async () => {
    await created(ctx.store, { overlap: "buffer_one" });
    const previous = await fireStarted(ctx.store);
    const held = await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store)));
    assert.deepEqual(held, { outcome: "held", previousExecutionId: previous });
    const holding = await stored(ctx.store);
    assert.deepEqual([holding.heldTickAt, holding.nextTickAt], [T0 + 2 * MINUTE, T0 + 3 * MINUTE]);
    assert.deepEqual(await ctx.store.fireScheduleTick(tickOf(holding)), { outcome: "skipped" }, "one held tick at most");
    const work = await ctx.store.scheduleWork(T0, 10);
    assert.deepEqual(
      work.held.map((h) => [h.schedule.scheduleId, h.schedule.heldTickAt, h.previousEnded]),
      [["nightly", T0 + 2 * MINUTE, false]],
    );
    const schedule = await stored(ctx.store);
    const release = {
      scheduleId: "nightly",
      heldTickAt: T0 + 2 * MINUTE,
      revision: schedule.revision,
      createdAt: schedule.createdAt,
      execution: tickExecution(schedule, T0 + 2 * MINUTE),
    };
    assert.deepEqual(await ctx.store.releaseHeldTick(release), { outcome: "not_ready" });
    await ctx.store.cancelExecution(previous, T0 + 4 * MINUTE);
    assert.deepEqual(
      (await ctx.store.scheduleWork(T0, 10)).held.map((h) => h.previousEnded),
      [true],
    );
    const released = await ctx.store.releaseHeldTick(release);
    assert.equal(released.outcome, "started");
    if (released.outcome !== "started") return;
    assert.equal(released.execution.idempotencyKey, `schedule:nightly:${new Date(T0 + 2 * MINUTE).toISOString()}`);
    const after = await stored(ctx.store);
    assert.deepEqual([after.heldTickAt, after.lastTickAt, after.lastExecutionId], [null, T0 + 2 * MINUTE, released.execution.id]);
    assert.deepEqual(await ctx.store.releaseHeldTick({ ...release, execution: tickExecution(schedule, T0 + 2 * MINUTE) }), {
      outcome: "stale",
    });
    assert.deepEqual((await ctx.store.scheduleWork(T0, 10)).held, []);
  });

  test("buffer_one: a tick that finds the previous ended while a tick is still held starts, and drops the held one", async () => {
    await created(ctx.store, { overlap: "buffer_one" });
    const previous = await fireStarted(ctx.store);
    assert.equal((await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store)))).outcome, "held");
    await ctx.store.cancelExecution(previous, T0 + 3 * MINUTE);
    const latest = await fireStarted(ctx.store);
    const after = await stored(ctx.store);
    assert.deepEqual([after.heldTickAt, after.lastExecutionId, after.lastTickAt], [null, latest, T0 + 3 * MINUTE]);
  });

  test("releaseHeldTick without an execution (its task is gone): the held tick is dropped", async () => {
    await created(ctx.store, { overlap: "buffer_one" });
    const previous = await fireStarted(ctx.store);
    assert.equal((await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store)))).outcome, "held");
    await ctx.store.cancelExecution(previous, T0 + 3 * MINUTE);
    const schedule = await stored(ctx.store);
    const release = {
      scheduleId: "nightly",
      heldTickAt: T0 + 2 * MINUTE,
      revision: schedule.revision,
      createdAt: schedule.createdAt,
      execution: null,
    };
    assert.deepEqual(await ctx.store.releaseHeldTick(release), { outcome: "failed" });
    const after = await stored(ctx.store);
    assert.deepEqual([after.heldTickAt, after.lastExecutionId], [null, previous]);
    assert.equal((await ctx.store.listExecutions({ task: "report", limit: 10, offset: 0, order: "asc" })).total, 1);
  });

  test("fireScheduleTick without an execution: the tick fails and the schedule moves on", async () => {
    const schedule = await created(ctx.store);
    assert.deepEqual(await ctx.store.fireScheduleTick({ ...tickOf(schedule), execution: null }), { outcome: "failed" });
    const after = await stored(ctx.store);
    assert.deepEqual([after.nextTickAt, after.lastTickAt, after.lastExecutionId], [T0 + 2 * MINUTE, null, null]);
    assert.equal((await ctx.store.countByStatus()).pending, 0);
  });

  test("a tick or a held tick computed before its schedule was deleted and created again under its id is stale", async () => {
    await created(ctx.store, { overlap: "buffer_one" });
    const previous = await fireStarted(ctx.store);
    assert.equal((await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store)))).outcome, "held");
    await ctx.store.cancelExecution(previous, T0 + 3 * MINUTE);
    const old = await stored(ctx.store);
    const oldTick = tickOf(old);
    const oldRelease = { scheduleId: "nightly", heldTickAt: T0 + 2 * MINUTE, revision: old.revision, createdAt: old.createdAt };
    assert.equal(await ctx.store.deleteSchedule("nightly"), true);
    // The new schedule: another task and data, the same next tick; a tick can be held on it too.
    const renewed = await created(ctx.store, {
      task: "other",
      dataJson: "{}",
      overlap: "buffer_one",
      now: T0 + 1,
      nextTickAt: old.nextTickAt as number,
    });
    await ctx.store.fireScheduleTick({ ...tickOf(renewed), nextTickAt: oldTick.nextTickAt });
    await ctx.store.fireScheduleTick({ ...tickOf(await stored(ctx.store)), tickAt: T0 + 2 * MINUTE });
    const current = await stored(ctx.store);
    assert.equal(current.heldTickAt, T0 + 2 * MINUTE);
    const before = (await ctx.store.listExecutions({ limit: 10, offset: 0, order: "asc" })).total;
    assert.deepEqual(await ctx.store.fireScheduleTick({ ...oldTick, dueAt: current.nextTickAt as number, revision: current.revision }), {
      outcome: "stale",
    });
    assert.deepEqual(
      await ctx.store.releaseHeldTick({ ...oldRelease, revision: current.revision, execution: tickExecution(old, T0 + 2 * MINUTE) }),
      {
        outcome: "stale",
      },
    );
    assert.equal(
      (await ctx.store.listExecutions({ limit: 10, offset: 0, order: "asc" })).total,
      before,
      "the old schedule started nothing",
    );
  });

  test("a tick whose idempotency key a client's execution holds starts nothing and adopts nothing; the schedule moves on", async () => {
    const schedule = await created(ctx.store, { overlap: "buffer_one" });
    const tick = tickOf(schedule);
    const client = { ...(tick.execution as NewExecution), id: newId(), scheduleId: null };
    assert.equal((await ctx.store.createExecution(client)).created, true);
    assert.deepEqual(await ctx.store.fireScheduleTick(tick), { outcome: "failed" });
    const after = await stored(ctx.store);
    assert.deepEqual([after.nextTickAt, after.lastExecutionId, after.lastTickAt], [tick.nextTickAt, null, null]);
    // A held tick released under a key a client holds is dropped the same way.
    const previous = await fireStarted(ctx.store);
    assert.equal((await ctx.store.fireScheduleTick(tickOf(await stored(ctx.store)))).outcome, "held");
    await ctx.store.cancelExecution(previous, T0 + 4 * MINUTE);
    const holding = await stored(ctx.store);
    const heldTickAt = holding.heldTickAt as number;
    const taken = { ...tickExecution(holding, heldTickAt), id: newId(), scheduleId: null };
    assert.equal((await ctx.store.createExecution(taken)).created, true);
    const release = { scheduleId: "nightly", heldTickAt, revision: holding.revision, createdAt: holding.createdAt };
    assert.deepEqual(await ctx.store.releaseHeldTick({ ...release, execution: tickExecution(holding, heldTickAt) }), { outcome: "failed" });
    const released = await stored(ctx.store);
    assert.deepEqual([released.heldTickAt, released.lastExecutionId], [null, previous]);
  });

  test("a paused schedule never fires: its tick is stale", async () => {
    const schedule = await created(ctx.store);
    await ctx.store.setSchedulePaused({ scheduleId: "nightly", paused: true, nextTickAt: null, now: T0 });
    assert.deepEqual(await ctx.store.fireScheduleTick(tickOf(schedule)), { outcome: "stale" });
    assert.deepEqual((await ctx.store.scheduleWork(T0 + 10 * MINUTE, 10)).due, []);
  });

  test("scheduleWork: due schedules soonest first up to the limit, and the earliest next tick", async () => {
    assert.deepEqual(await ctx.store.scheduleWork(T0, 10), { due: [], held: [], nextTickAt: null });
    await created(ctx.store, { scheduleId: "c", nextTickAt: T0 + 3 });
    await created(ctx.store, { scheduleId: "a", nextTickAt: T0 + 1 });
    await created(ctx.store, { scheduleId: "b", nextTickAt: T0 + 2 });
    await created(ctx.store, { scheduleId: "later", nextTickAt: T0 + 100 });
    await created(ctx.store, { scheduleId: "off", nextTickAt: T0, paused: true });
    const work = await ctx.store.scheduleWork(T0 + 3, 2);
    assert.deepEqual(
      work.due.map((s) => s.scheduleId),
      ["a", "b"],
    );
    assert.equal(work.nextTickAt, T0 + 1);
    assert.deepEqual(
      (await ctx.store.scheduleWork(T0 + 50, 10)).due.map((s) => s.scheduleId),
      ["a", "b", "c"],
    );
    assert.deepEqual((await ctx.store.scheduleWork(T0, 10)).due, []);
  });

  test("syncCodeSchedules from several instances at once, declarations in different orders: every sync succeeds", async () => {
    const peers = [ctx.store, await ctx.peer(), await ctx.peer()];
    const ids = ["a", "b", "c", "d", "e", "f"];
    const declared = (order: string[]) =>
      order.map((id) => ({ ...newSchedule({ scheduleId: id, source: "code" }), declaredJson: `{"v":"${id}"}` }));
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        peers.map((store, i) =>
          store.syncCodeSchedules({ tasks: ["report"], schedules: declared(i % 2 === 0 ? ids : [...ids].reverse()), now: T0 + round }),
        ),
      );
      assert.equal(results.flatMap((r) => r.created).length, round === 0 ? ids.length : 0, `round ${round}: each schedule created once`);
    }
    assert.deepEqual(
      (await ctx.store.listSchedules()).map((s) => s.scheduleId),
      ids,
    );
  });

  test("syncCodeSchedules: inserts, keeps an unchanged declaration (and an operator's pause), applies a changed one, takes over an API id, removes undeclared", async () => {
    const declare = (id: string, over: Partial<NewSchedule> = {}) => {
      const schedule = newSchedule({ scheduleId: id, source: "code", ...over });
      const { scheduleId, task, cron, timezone, dataJson, overlap, paused } = schedule;
      return { ...schedule, declaredJson: JSON.stringify({ scheduleId, task, cron, timezone, dataJson, overlap, paused }) };
    };
    await created(ctx.store, { scheduleId: "from-api", task: "report" });
    await created(ctx.store, { scheduleId: "api-other", task: "report" });
    const first = await ctx.store.syncCodeSchedules({
      tasks: ["report", "sync"],
      schedules: [declare("nightly"), declare("hourly", { task: "sync" }), declare("from-api")],
      now: T0,
    });
    assert.deepEqual(first, { created: ["nightly", "hourly"], updated: [], takenOver: ["from-api"], removed: [] });
    const takenOver = await stored(ctx.store, "from-api");
    assert.deepEqual([takenOver.source, takenOver.revision, takenOver.declaredJson], ["code", 1, declare("from-api").declaredJson]);
    await ctx.store.setSchedulePaused({ scheduleId: "nightly", paused: true, nextTickAt: null, now: T0 + 1 });
    await created(ctx.store, { scheduleId: "elsewhere", task: "other-task", source: "code", declaredJson: "{}" });

    const restart = await ctx.store.syncCodeSchedules({
      tasks: ["report", "sync"],
      schedules: [declare("nightly"), declare("hourly", { task: "sync", cron: "0 * * * *", nextTickAt: T0 + 60 * MINUTE })],
      now: T0 + 2,
    });
    assert.deepEqual(restart, { created: [], updated: ["hourly"], takenOver: [], removed: ["from-api"] });
    assert.equal((await stored(ctx.store, "nightly")).paused, true, "an unchanged declaration keeps the operator's pause");
    const hourly = await stored(ctx.store, "hourly");
    assert.deepEqual([hourly.cron, hourly.nextTickAt, hourly.revision, hourly.updatedAt], ["0 * * * *", T0 + 60 * MINUTE, 1, T0 + 2]);
    assert.deepEqual(
      (await ctx.store.listSchedules()).map((s) => s.scheduleId),
      ["api-other", "elsewhere", "hourly", "nightly"],
      "API schedules and code schedules of tasks this process does not run stay",
    );

    const unpause = await ctx.store.syncCodeSchedules({
      tasks: ["report"],
      schedules: [declare("nightly", { dataJson: '{"format": "csv"}' })],
      now: T0 + 3,
    });
    assert.deepEqual(unpause.updated, ["nightly"]);
    const nightly = await stored(ctx.store, "nightly");
    assert.deepEqual(
      [nightly.paused, nightly.dataJson, nightly.nextTickAt],
      [false, '{"format": "csv"}', T0 + MINUTE],
      "a changed declaration applies all of it, its paused state too",
    );
    assert.ok(await ctx.store.getSchedule("hourly"), "a task outside `tasks` keeps its code schedules");
  });
}
