/**
 * Schedules through the engine API on SQLite with a ManualClock: code schedules and their sync at start,
 * ticks at their exact times, ticks missed while nothing ran (fired once), each overlap policy (the held
 * tick of `buffer_one` released by the previous execution's terminal notice, with the clock standing
 * still), pause and resume, and the checks of `engine.schedules.create`.
 *
 * Long because each overlap policy is its own scenario on the same manual clock and fixtures.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { silentLogger } from "../src/core/logger.js";
import { defineSchedule, type ScheduleDefinition } from "../src/core/schedule.js";
import { defineTask } from "../src/core/task.js";
import type { ExecutionRecord } from "../src/core/types.js";
import { Engine } from "../src/engine/engine.js";
import { openStore } from "../src/store/open-store.js";
import type { Store } from "../src/store/store.js";
import { OutcomeLog } from "../src/testing/index.js";

const MINUTE = 60_000;
const T0 = Date.parse("2026-01-10T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

const report = defineTask({
  name: "report",
  input: { type: "object", properties: { format: { type: "string" } }, required: ["format"] },
  run: (_ctx, data: { format: string }) => ({ made: data.format }),
});

/** Runs until it receives the `go` event: an execution that stays unfinished as long as the test wants. */
const gate = defineTask({
  name: "gate",
  async run(ctx) {
    await ctx.waitForEvent("go");
    return "through";
  },
});

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An engine on a SQLite file and a ManualClock, restartable on the same file and clock. */
class Harness {
  engine!: Engine;
  store!: Store;
  readonly log = new OutcomeLog();
  private readonly path: string;

  constructor(
    readonly clock: ManualClock,
    private schedules: readonly ScheduleDefinition[] | undefined,
  ) {
    const dir = mkdtempSync(join(tmpdir(), "zart-schedules-"));
    dirs.push(dir);
    this.path = join(dir, "zart.db");
  }

  async start(schedules = this.schedules): Promise<this> {
    this.schedules = schedules;
    this.store = await openStore(this.path);
    this.engine = await Engine.start({
      store: this.store,
      tasks: [report, gate],
      clock: this.clock,
      logger: silentLogger,
      metrics: this.log,
      schedules,
    });
    await this.engine.schedules.settled();
    return this;
  }

  async stop(): Promise<void> {
    await this.engine.stop();
    await this.store.close();
  }

  /** Moves the clock to `at` (once the scheduler is idle) and waits until it has done what is due then. */
  async at(at: number): Promise<void> {
    await this.engine.schedules.settled();
    this.clock.advance(at - this.clock.now());
    await this.engine.schedules.settled();
  }

  /** The gate execution started by the tick at `tickAt`, once it waits for its event. */
  async waitingGate(scheduleId: string, tickAt: number): Promise<ExecutionRecord> {
    const key = `schedule:${scheduleId}:${iso(tickAt)}`;
    const execution = (await this.executions("gate")).find((e) => e.idempotencyKey === key);
    assert.ok(execution, `an execution for ${key}`);
    await this.log.waitFor((o) => o.executionId === execution.id && o.outcome === "parked");
    return execution;
  }

  async executions(task = "report"): Promise<ExecutionRecord[]> {
    return (await this.store.listExecutions({ task, limit: 100, offset: 0, order: "asc" })).executions;
  }

  async keys(task = "report"): Promise<string[]> {
    return (await this.executions(task)).map((e) => e.idempotencyKey ?? "");
  }

  ticks(): string[] {
    return this.log.ticks.map((t) => `${t.scheduleId} ${t.outcome}`);
  }
}

const everyMinute = (id: string, over: Partial<Parameters<typeof defineSchedule>[0]> = {}) =>
  defineSchedule({ schedule_id: id, task: "gate", cron: "* * * * *", ...over });

describe("code schedules", () => {
  test("a defineSchedule tick starts one execution at its exact time, with the schedule's data, id and tick key", async () => {
    const nightly = defineSchedule({
      schedule_id: "nightly",
      task: report,
      cron: "0 3 * * *",
      timezone: "Europe/Berlin",
      data: { format: "pdf" },
    });
    const h = await new Harness(new ManualClock(T0), [nightly]).start();
    try {
      const info = await h.engine.schedules.get("nightly");
      assert.deepEqual(
        [info.source, info.overlap, info.paused, info.nextFireTimes.map(iso)],
        [
          "code",
          "skip",
          false,
          [
            "2026-01-11T02:00:00.000Z",
            "2026-01-12T02:00:00.000Z",
            "2026-01-13T02:00:00.000Z",
            "2026-01-14T02:00:00.000Z",
            "2026-01-15T02:00:00.000Z",
          ],
        ],
      );
      await h.at(Date.parse("2026-01-11T01:59:59.999Z"));
      assert.deepEqual(await h.keys(), [], "nothing before the tick");
      await h.at(Date.parse("2026-01-11T02:00:00Z"));
      const [execution] = await h.executions();
      assert.ok(execution);
      assert.deepEqual(
        [execution.idempotencyKey, execution.scheduleId, execution.dataJson, execution.createdAt],
        ["schedule:nightly:2026-01-11T02:00:00.000Z", "nightly", '{"format":"pdf"}', Date.parse("2026-01-11T02:00:00Z")],
      );
      const done = await h.engine.waitForTerminal(execution.id, 1e9);
      assert.deepEqual([done.status, done.outputJson], ["completed", '{"made":"pdf"}']);
      const after = await h.engine.schedules.get("nightly");
      assert.deepEqual(
        [after.lastTickAt, after.lastExecutionId, after.nextTickAt].map((v) => (typeof v === "number" ? iso(v) : v)),
        ["2026-01-11T02:00:00.000Z", execution.id, "2026-01-12T02:00:00.000Z"],
      );
      assert.deepEqual(h.ticks(), ["nightly started"]);
    } finally {
      await h.stop();
    }
  });

  test("restarts keep an unchanged declaration (and an operator's pause); a removed declaration is deleted; API schedules stay", async () => {
    const h = await new Harness(new ManualClock(T0), [everyMinute("a"), everyMinute("b")]).start();
    await h.engine.schedules.create({ schedule_id: "from-api", task: "gate", cron: "0 * * * *" });
    await h.engine.schedules.pause("a");
    await h.stop();
    await h.start([everyMinute("a"), everyMinute("b", { cron: "*/5 * * * *" })]);
    try {
      const [a, b] = [await h.engine.schedules.get("a"), await h.engine.schedules.get("b")];
      assert.deepEqual([a.paused, b.cron, b.revision], [true, "*/5 * * * *", 1]);
      await h.stop();
      await h.start([everyMinute("b", { cron: "*/5 * * * *" })]);
      assert.deepEqual(
        (await h.engine.schedules.list()).map((s) => `${s.scheduleId} ${s.source}`),
        ["b code", "from-api api"],
      );
    } finally {
      await h.stop();
    }
  });

  test("an engine refuses a schedule for a task it does not run, or whose data fails the task's input schema", async () => {
    const h = new Harness(new ManualClock(T0), undefined);
    await assert.rejects(h.start([defineSchedule({ schedule_id: "x", task: "elsewhere", cron: "* * * * *" })]), {
      message: 'Schedule "x" starts task "elsewhere", which this process does not run',
    });
    await h.store.close();
    await assert.rejects(
      h.start([defineSchedule({ schedule_id: "y", task: report, cron: "* * * * *", data: { format: 5 } })]),
      (error: Error) => {
        assert.match(error.message, /^Schedule "y": data\.format must be string/);
        return true;
      },
    );
    await h.store.close();
    assert.throws(() => defineSchedule({ schedule_id: "z", task: report, cron: "61 * * * *" }), {
      name: "TypeError",
      message: 'Schedule "z": cron "61 * * * *" is not valid: Invalid value for minute: 61',
    });
    assert.throws(() => defineSchedule({ schedule_id: "bad id", task: report, cron: "* * * * *" }), /schedule_id must be 1-128 letters/);
    await assert.rejects(
      Engine.start({ store: h.store, schedules: [everyMinute("d"), everyMinute("d")] }),
      /Schedule "d" is defined twice/,
    );
  });
});

test("a start refused for a schedule leaves no timer behind (the caller's process can exit)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-schedules-"));
  dirs.push(dir);
  const store = await openStore(join(dir, "zart.db"));
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const before = timers();
  // The system clock (synced with the store's), the worker's heartbeat: both start before the schedules' check.
  await assert.rejects(
    Engine.start({ store, tasks: [report], logger: silentLogger, schedules: [everyMinute("elsewhere", { task: "elsewhere" })] }),
    /does not run/,
  );
  await store.close();
  assert.equal(timers(), before);
  const reopened = await openStore(join(dir, "zart.db"));
  assert.deepEqual(await reopened.listWorkers(Date.now()), [], "its heartbeat row is gone too");
  await reopened.close();
});

describe("ticks", () => {
  test("ticks missed while nothing ran fire once on start, as the latest tick; the next tick follows now", async () => {
    const h = await new Harness(new ManualClock(T0), [everyMinute("m", { overlap: "allow" })]).start();
    await h.at(T0 + MINUTE);
    assert.deepEqual(await h.keys("gate"), [`schedule:m:${iso(T0 + MINUTE)}`]);
    await h.stop();
    h.clock.advance(60 * MINUTE + 30_000);
    await h.start();
    try {
      assert.deepEqual(await h.keys("gate"), [`schedule:m:${iso(T0 + MINUTE)}`, `schedule:m:${iso(T0 + 61 * MINUTE)}`]);
      assert.equal((await h.engine.schedules.get("m")).nextTickAt, T0 + 62 * MINUTE);
      await h.at(T0 + 62 * MINUTE);
      assert.equal((await h.keys("gate")).length, 3);
      assert.deepEqual(h.ticks(), ["m started", "m started", "m started"]);
    } finally {
      await h.stop();
    }
  });

  test("skip: a tick while the previous execution runs starts nothing; the first tick after it ended starts", async () => {
    const h = await new Harness(new ManualClock(T0), [everyMinute("s")]).start();
    try {
      await h.at(T0 + MINUTE);
      const first = await h.waitingGate("s", T0 + MINUTE);
      await h.at(T0 + 2 * MINUTE);
      assert.equal((await h.executions("gate")).length, 1);
      await h.engine.deliverEvent(first.id, "go", "null");
      assert.equal((await h.engine.waitForTerminal(first.id, 1e9)).status, "completed");
      await h.at(T0 + 3 * MINUTE);
      assert.deepEqual(await h.keys("gate"), [`schedule:s:${iso(T0 + MINUTE)}`, `schedule:s:${iso(T0 + 3 * MINUTE)}`]);
      assert.deepEqual(h.ticks(), ["s started", "s skipped", "s started"]);
    } finally {
      await h.stop();
    }
  });

  test("allow: every tick starts an execution, running or not", async () => {
    const h = await new Harness(new ManualClock(T0), [everyMinute("a", { overlap: "allow" })]).start();
    try {
      for (let i = 1; i <= 3; i++) await h.at(T0 + i * MINUTE);
      const executions = await h.executions("gate");
      assert.equal(executions.length, 3);
      assert.ok(executions.every((e) => e.status !== "completed"));
    } finally {
      await h.stop();
    }
  });

  test("buffer_one: one tick is held while the previous runs (more are skipped) and starts when it ends, woken by its end, not a poll", async () => {
    const h = await new Harness(new ManualClock(T0), [everyMinute("b", { overlap: "buffer_one" })]).start();
    try {
      await h.at(T0 + MINUTE);
      const first = await h.waitingGate("b", T0 + MINUTE);
      await h.at(T0 + 2 * MINUTE);
      await h.at(T0 + 3 * MINUTE);
      assert.equal((await h.executions("gate")).length, 1);
      assert.equal((await h.engine.schedules.get("b")).heldTickAt, T0 + 2 * MINUTE);
      assert.deepEqual(h.ticks(), ["b started", "b held", "b skipped"]);
      // The clock stands still from here: no timer can fire, so only the terminal notice can release the tick.
      await h.engine.deliverEvent(first.id, "go", "null");
      assert.equal((await h.engine.waitForTerminal(first.id, 1e9)).status, "completed");
      await h.engine.schedules.settled();
      assert.equal(h.clock.now(), T0 + 3 * MINUTE);
      assert.deepEqual(await h.keys("gate"), [`schedule:b:${iso(T0 + MINUTE)}`, `schedule:b:${iso(T0 + 2 * MINUTE)}`]);
      const schedule = await h.engine.schedules.get("b");
      assert.deepEqual([schedule.heldTickAt, schedule.lastTickAt], [null, T0 + 2 * MINUTE]);
      assert.deepEqual(h.ticks(), ["b started", "b held", "b skipped", "b started"]);
    } finally {
      await h.stop();
    }
  });
});

describe("engine.schedules", () => {
  test("create, get, list, pause (no ticks while paused), resume (next tick after now), delete", async () => {
    const h = await new Harness(new ManualClock(T0), undefined).start();
    try {
      const created = await h.engine.schedules.create({
        schedule_id: "api-1",
        task: "report",
        cron: "*/10 * * * *",
        data: { format: "csv" },
      });
      assert.deepEqual(
        [created.source, created.timezone, created.overlap, created.paused, created.dataJson, created.nextFireTimes.map(iso).slice(0, 2)],
        ["api", "UTC", "skip", false, '{"format":"csv"}', [iso(T0 + 10 * MINUTE), iso(T0 + 20 * MINUTE)]],
      );
      await h.at(T0 + 10 * MINUTE);
      const [first] = await h.executions();
      assert.equal((await h.engine.waitForTerminal(first?.id ?? "", 1e9)).status, "completed");
      const paused = await h.engine.schedules.pause("api-1");
      assert.deepEqual([paused.paused, paused.nextTickAt, paused.nextFireTimes], [true, null, []]);
      assert.deepEqual(await h.engine.schedules.pause("api-1"), paused, "pausing twice changes nothing");
      await h.at(T0 + 35 * MINUTE);
      assert.equal((await h.keys()).length, 1, "no ticks while paused");
      const resumed = await h.engine.schedules.resume("api-1");
      assert.deepEqual([resumed.paused, resumed.nextTickAt], [false, T0 + 40 * MINUTE], "the ticks that fell while paused never fire");
      await h.at(T0 + 40 * MINUTE);
      assert.deepEqual(await h.keys(), [`schedule:api-1:${iso(T0 + 10 * MINUTE)}`, `schedule:api-1:${iso(T0 + 40 * MINUTE)}`]);
      const quiet = await h.engine.schedules.create({
        schedule_id: "api-0",
        task: "report",
        cron: "* * * * *",
        data: { format: "x" },
        paused: true,
      });
      assert.deepEqual([quiet.paused, quiet.nextFireTimes], [true, []]);
      assert.deepEqual(
        (await h.engine.schedules.list()).map((s) => s.scheduleId),
        ["api-0", "api-1"],
      );
      await h.engine.schedules.delete("api-1");
      await assert.rejects(h.engine.schedules.get("api-1"), { code: "schedule_not_found", message: "No schedule found with ID api-1" });
      await assert.rejects(h.engine.schedules.delete("api-1"), { code: "schedule_not_found" });
      await assert.rejects(h.engine.schedules.pause("nope"), { code: "schedule_not_found" });
      assert.equal((await h.keys()).length, 2, "a deleted schedule's executions stay");
    } finally {
      await h.stop();
    }
  });

  test("a clock moved past the next tick while the scheduler reads: settled() still covers that tick", async () => {
    const h = await new Harness(new ManualClock(T0), undefined).start();
    try {
      for (let i = 1; i <= 5; i++) {
        // No settling between the create (which starts a pass) and the move of the clock.
        await h.engine.schedules.create({ schedule_id: `s${i}`, task: "report", cron: "* * * * *", data: { format: "x" } });
        h.clock.advance(h.clock.now() - (h.clock.now() % MINUTE) + MINUTE - h.clock.now());
        await h.engine.schedules.settled();
        assert.equal((await h.engine.schedules.get(`s${i}`)).lastTickAt, h.clock.now(), `s${i} fired at ${iso(h.clock.now())}`);
      }
    } finally {
      await h.stop();
    }
  });

  test("create checks the id, the cron expression, the time zone, the overlap, the task and the data like a POST", async () => {
    const h = await new Harness(new ManualClock(T0), undefined).start();
    const base = { schedule_id: "s", task: "report", cron: "0 3 * * *", data: { format: "pdf" } };
    const refused = async (over: Record<string, unknown>, code: string, message: RegExp) => {
      await assert.rejects(h.engine.schedules.create({ ...base, ...over } as never), (error: { code: string; message: string }) => {
        assert.equal(error.code, code, JSON.stringify(over));
        assert.match(error.message, message);
        return true;
      });
    };
    try {
      await refused({ schedule_id: "no spaces" }, "invalid_data", /^schedule_id must be 1-128 letters/);
      await refused({ cron: "61 * * * *" }, "invalid_data", /^cron "61 \* \* \* \*" is not valid: Invalid value for minute: 61$/);
      await refused({ cron: "* * * * * * *" }, "invalid_data", /requires exactly 5 or 6 parts/);
      await refused({ cron: "0 0 30 2 *" }, "invalid_data", /^cron "0 0 30 2 \*" never fires$/);
      await refused({ cron: "" }, "invalid_data", /^cron must be a cron expression of 5 or 6 fields/);
      await refused({ timezone: "Mars/Olympus" }, "invalid_data", /^timezone "Mars\/Olympus" is not a known IANA time zone$/);
      await refused({ timezone: "" }, "invalid_data", /^timezone must be an IANA time zone name/);
      await refused({ overlap: "sometimes" }, "invalid_data", /^overlap must be one of skip, allow, buffer_one$/);
      await refused({ data: [1] }, "invalid_data", /^data must be a JSON object$/);
      await refused({ paused: "yes" }, "invalid_data", /^paused must be a boolean$/);
      await refused({ task: "no-such-task" }, "task_not_registered", /no-such-task/);
      await refused({ data: {} }, "invalid_data", /format/);
      await h.engine.schedules.create({ ...base, timezone: "America/New_York", overlap: "buffer_one" });
      await refused({}, "schedule_already_exists", /^A schedule with ID s already exists$/);
      assert.deepEqual(
        (await h.engine.schedules.list()).map((s) => [s.scheduleId, s.timezone, s.overlap]),
        [["s", "America/New_York", "buffer_one"]],
      );
    } finally {
      await h.stop();
    }
  });
});
