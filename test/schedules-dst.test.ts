/**
 * Schedules across daylight-saving transitions, with a ManualClock walked over each transition day in
 * Europe/Berlin (2026: spring forward on 29 March, 02:00 CET -> 03:00 CEST; fall back on 25 October,
 * 03:00 CEST -> 02:00 CET). This is croner 11's behaviour (pinned in package.json; croner 10 placed the
 * spring tick at 03:30), asserted through the executions the engine really starts and the fire times GET
 * shows:
 * - `30 2 * * *` (second, minute and hour single values: a fixed-time job) fires at 03:00 CEST on the
 *   spring day (the first valid time after the gap) and once on the fall day (the first 02:30, CEST).
 * - `*\/30 2 * * *` (a stepped minute: an interval job) does not fire on the spring day at all (02:00 and
 *   02:30 do not exist) and fires four times on the fall day (02:00 and 02:30, each in CEST and in CET).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import { defineSchedule } from "../src/core/schedule.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine, type TestEngine } from "../src/testing/index.js";

const noop = defineTask({ name: "noop", run: () => "ok" });
const HOUR = 3_600_000;

async function engineAt(start: string, cron: string): Promise<TestEngine> {
  const schedule = defineSchedule({ schedule_id: "dst", task: noop, cron, timezone: "Europe/Berlin", overlap: "allow" });
  const h = await createTestEngine({ tasks: [noop], clock: new ManualClock(Date.parse(start)), schedules: [schedule] });
  await h.engine.schedules.settled();
  return h;
}

/**
 * Walks the clock from now to `until` in `stepMs` steps (stopping at each step so every tick fires at its
 * time, not as a late catch-up), lets each new execution finish, and returns every tick that started one.
 */
async function firedUntil(h: TestEngine, until: string, stepMs: number): Promise<string[]> {
  const end = Date.parse(until);
  while (h.clock.now() < end) {
    await h.engine.schedules.settled();
    h.clock.advance(Math.min(stepMs, end - h.clock.now()));
    await h.engine.schedules.settled();
    const { executions } = await h.store.listExecutions({ task: "noop", limit: 500, offset: 0, order: "asc" });
    for (const execution of executions) await h.engine.waitForTerminal(execution.id, 1e9);
  }
  const { executions } = await h.store.listExecutions({ task: "noop", limit: 500, offset: 0, order: "asc" });
  return executions.map((e) => {
    const key = e.idempotencyKey ?? "";
    // The execution starts at its tick: the key's time and the creation time agree.
    assert.equal(new Date(e.createdAt).toISOString(), key.replace("schedule:dst:", ""), key);
    return key.replace("schedule:dst:", "");
  });
}

async function nextFireTimes(h: TestEngine): Promise<string[]> {
  return (await h.engine.schedules.get("dst")).nextFireTimes.map((ms) => new Date(ms).toISOString());
}

describe("DST in Europe/Berlin (croner 11)", () => {
  test("30 2 * * * on the spring-forward day fires at 03:00 CEST (01:00Z), then 02:30 CEST again", async () => {
    const h = await engineAt("2026-03-28T12:00:00Z", "30 2 * * *");
    try {
      assert.deepEqual(await nextFireTimes(h), [
        "2026-03-29T01:00:00.000Z",
        "2026-03-30T00:30:00.000Z",
        "2026-03-31T00:30:00.000Z",
        "2026-04-01T00:30:00.000Z",
        "2026-04-02T00:30:00.000Z",
      ]);
      // Quarter-hour steps through both nights: 00:30Z (would be 01:30 CET) and 01:30Z (03:30 CEST,
      // croner 10's choice) pass without a tick.
      assert.deepEqual(await firedUntil(h, "2026-03-30T06:00:00Z", HOUR / 4), ["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
      assert.deepEqual(h.log.ticks, [
        { scheduleId: "dst", outcome: "started" },
        { scheduleId: "dst", outcome: "started" },
      ]);
    } finally {
      await h.close();
    }
  });

  test("30 2 * * * on the fall-back day fires once, at the first 02:30 (CEST, 00:30Z), not again at 02:30 CET", async () => {
    const h = await engineAt("2026-10-24T12:00:00Z", "30 2 * * *");
    try {
      assert.deepEqual((await nextFireTimes(h)).slice(0, 3), [
        "2026-10-25T00:30:00.000Z",
        "2026-10-26T01:30:00.000Z",
        "2026-10-27T01:30:00.000Z",
      ]);
      assert.deepEqual(await firedUntil(h, "2026-10-26T06:00:00Z", HOUR / 4), ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    } finally {
      await h.close();
    }
  });

  test("*/30 2 * * * skips the spring-forward day (02:00 and 02:30 do not exist) and fires on both fall-back 02:00s and 02:30s", async () => {
    const spring = await engineAt("2026-03-28T12:00:00Z", "*/30 2 * * *");
    try {
      assert.deepEqual(await firedUntil(spring, "2026-03-30T06:00:00Z", HOUR / 4), [
        "2026-03-30T00:00:00.000Z",
        "2026-03-30T00:30:00.000Z",
      ]);
    } finally {
      await spring.close();
    }
    const fall = await engineAt("2026-10-24T12:00:00Z", "*/30 2 * * *");
    try {
      assert.deepEqual(await firedUntil(fall, "2026-10-25T06:00:00Z", HOUR / 4), [
        "2026-10-25T00:00:00.000Z",
        "2026-10-25T00:30:00.000Z",
        "2026-10-25T01:00:00.000Z",
        "2026-10-25T01:30:00.000Z",
      ]);
    } finally {
      await fall.close();
    }
  });
});
