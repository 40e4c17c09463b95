import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { Type } from "typebox";
import { ManualClock, systemClock } from "../src/core/clock.js";
import { MAX_TIME_MS, toMs } from "../src/core/duration.js";
import { NonRetryableError } from "../src/core/errors.js";
import { decodeValue, encodeJson, encodeValue } from "../src/core/json.js";
import { backoffDelay, resolveRetryPolicy, shouldRetry } from "../src/core/retry-policy.js";
import { checkJsonSchema, compileSchema, type StandardSchemaLike } from "../src/core/schema.js";
import { defineTask } from "../src/core/task.js";
import type { ExecutionRecord } from "../src/core/types.js";
import { isExecutionId, newExecutionId } from "../src/engine/execution-id.js";
import { TERMINAL_RECORD_TTL_MS, TerminalCache } from "../src/engine/terminal-cache.js";
import { RunAbort } from "../src/worker/run-abort.js";

describe("execution ids", () => {
  // First, and at an earlier time: the next test leaves the generator at the last representable millisecond.
  test("more ids in one millisecond than its 16 random digits hold move on to the next millisecond, still in order", () => {
    const time = 1_700_000_000_000;
    let previous = newExecutionId(time);
    let moved = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const id = newExecutionId(time);
      if (!(id.length === 30 && id > previous)) assert.fail(`${previous} then ${id}`);
      if (id.slice(5, 14) !== previous.slice(5, 14)) moved++;
      previous = id;
    }
    assert.ok(moved >= 1, "the same-millisecond steps ran past 16 digits at least once");
  });

  test("well-formed, distinct across many refills of the random pool, strictly increasing, never guessable from a neighbour", () => {
    // Each id draws 12 bytes, so 341 ids use up one pool of random bytes; 3,000 ids cross several refills.
    const base = 1_800_000_000_000;
    const ids = Array.from({ length: 3000 }, (_, i) => newExecutionId(base + Math.floor(i / 100)));
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(isExecutionId(id) && id.length === 30, id);
    // Creation order is id order, also within one millisecond.
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
    assert.equal(ids[0]!.slice(5, 14), base.toString(36).padStart(9, "0"), "the time comes first");
    // Within one millisecond each id adds 1 + 64 random bits to its neighbour's random part: 41 to the low
    // half of its 16 digits, 23 to the high half (each half 8 base-36 digits).
    const random = (id: string) => [...id.slice(14)].reduce((n, c) => n * 36n + BigInt(Number.parseInt(c, 36)), 0n);
    const steps = ids
      .slice(0, 100)
      .map((id, i, all) => (i === 0 ? 0n : random(id) - random(all[i - 1]!)))
      .slice(1);
    assert.equal(new Set(steps).size, steps.length, "every step is different");
    const half = 36n ** 8n;
    assert.ok(steps.every((d) => d >= 1n && d <= 2n ** 41n + (2n ** 23n - 1n) * half));
    assert.ok(steps.filter((d) => d > 2n ** 56n).length > 80, "the steps are random over 64 bits");
    // A clock that goes back does not break the order; the latest time is kept.
    const back = newExecutionId(base - 60_000);
    assert.ok(back > ids[ids.length - 1]!);
    assert.ok(isExecutionId(newExecutionId(Number.MAX_SAFE_INTEGER)));
  });
});

describe("durations", () => {
  test("parses units and compounds; refuses junk", () => {
    assert.equal(toMs(250), 250);
    assert.equal(toMs("250ms"), 250);
    assert.equal(toMs("5s"), 5000);
    assert.equal(toMs("1h30m"), 5_400_000);
    assert.equal(toMs("1.5s"), 1500);
    assert.equal(toMs("2d"), 172_800_000);
    for (const bad of ["", "5", "5 minutes", "s", "-1s", "1h 30m"]) assert.throws(() => toMs(bad), RangeError, bad);
    assert.throws(() => toMs(-1), RangeError);
    assert.throws(() => toMs(Number.NaN), RangeError);
  });

  test("refuses a duration longer than a store can hold, Infinity included, and says so", () => {
    assert.equal(toMs("100000000d"), MAX_TIME_MS);
    assert.equal(toMs(MAX_TIME_MS), MAX_TIME_MS);
    const tooLong = /^Invalid duration: .* is too long \(at most 100000000 days\)$/;
    for (const bad of ["100000001d", "999999999999d", `${"9".repeat(400)}d`, MAX_TIME_MS + 1, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => toMs(bad),
        (error: Error) => error instanceof RangeError && tooLong.test(error.message),
        String(bad).slice(0, 20),
      );
    }
  });
});

describe("retry policy", () => {
  test("exponential backoff grows by the factor, is capped, and jitter takes off up to its fraction", () => {
    const policy = resolveRetryPolicy({ maxAttempts: 10, initialDelay: "1s", factor: 3, maxDelay: "20s", jitter: 0.5 });
    const exact = (retry: number) => backoffDelay(policy, retry, () => 0);
    assert.deepEqual([1, 2, 3, 4, 5].map(exact), [1000, 3000, 9000, 20_000, 20_000]);
    assert.equal(
      backoffDelay(policy, 2, () => 1),
      1500,
      "full jitter halves a delay with jitter 0.5",
    );
    const fixed = resolveRetryPolicy({ maxAttempts: 3, backoff: "fixed", initialDelay: 200, jitter: 0 });
    assert.deepEqual(
      [1, 2, 3].map((r) => backoffDelay(fixed, r)),
      [200, 200, 200],
    );
  });

  test("attempts count the first try; NonRetryableError and retryIf stop retries", () => {
    const policy = resolveRetryPolicy({ maxAttempts: 3, retryIf: (e) => !e.message.includes("fatal") });
    assert.equal(shouldRetry(policy, 1, new Error("x")), true);
    assert.equal(shouldRetry(policy, 3, new Error("x")), false);
    assert.equal(shouldRetry(policy, 1, new NonRetryableError("x")), false);
    assert.equal(shouldRetry(policy, 1, new Error("fatal x")), false);
    assert.equal(shouldRetry(resolveRetryPolicy(undefined), 1, new Error("x")), false, "no policy: one attempt");
    assert.throws(() => resolveRetryPolicy({ maxAttempts: 0 }), RangeError);
    assert.throws(() => resolveRetryPolicy({ jitter: 2 }), RangeError);
  });
});

describe("JSON values", () => {
  test("plain JSON passes; everything JSON would mangle is refused with its path", () => {
    assert.equal(encodeJson({ a: [1, "x", null, true, { b: 2 }] }, "v", 1000), '{"a":[1,"x",null,true,{"b":2}]}');
    // undefined as JSON treats it; a recorded undefined itself replays as undefined (encodeValue's null text).
    assert.equal(encodeJson({ a: undefined, b: [undefined] }, "v", 1000), '{"b":[null]}');
    assert.deepEqual(
      encodeValue({ a: undefined, b: 1 }, "v", 1000),
      { json: '{"b":1}', value: { b: 1 } },
      "the first run sees what a replay will",
    );
    assert.deepEqual(encodeValue(undefined, "v", 1000), { json: null, value: undefined });
    assert.equal(decodeValue(null), undefined);
    assert.deepEqual(decodeValue('{"b":1}'), { b: 1 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[unknown, RegExp]> = [
      [{ f() {} }, /\$\.f is a function/],
      [[1, 2n], /\$\[1\] is a BigInt/],
      [{ n: Number.POSITIVE_INFINITY }, /\$\.n is Infinity/],
      [{ d: new Date(0) }, /\$\.d is a Date/],
      [new Map(), /\$ is a Map/],
      [cyclic, /\$\.self is a circular reference/],
      [Symbol("s"), /is a symbol/],
    ];
    for (const [value, message] of cases) assert.throws(() => encodeJson(value, "Result", 1000), message);
    assert.throws(() => encodeJson("x".repeat(2000), "Result", 1000), /over the 1000-byte limit/);
    assert.throws(() => encodeJson("é".repeat(600), "Result", 1000), /over the 1000-byte limit/, "the limit is in bytes");
  });
});

describe("schemas", () => {
  test("JSON Schema errors name the failing field", () => {
    const schema = JSON.stringify({
      type: "object",
      properties: { user: { type: "object", properties: { email: { type: "string" } }, required: ["email"] } },
      required: ["user"],
    });
    assert.equal(checkJsonSchema(schema, { user: { email: "a" } }, "data"), null);
    assert.equal(checkJsonSchema(schema, {}, "data"), "data.user is required");
    assert.equal(checkJsonSchema(schema, { user: {} }, "data"), "data.user.email is required");
    assert.match(checkJsonSchema(schema, { user: { email: 3 } }, "data") ?? "", /^data\.user\.email /);
  });

  test("a Standard Schema library is accepted; its issues name the path", async () => {
    const positive: StandardSchemaLike = {
      "~standard": {
        version: 1,
        validate: (value) =>
          typeof value === "object" && value !== null && typeof (value as { n?: unknown }).n === "number" && (value as { n: number }).n > 0
            ? { value }
            : { issues: [{ message: "must be a positive number", path: [{ key: "n" }] }] },
      },
    };
    const compiled = compileSchema(positive);
    assert.equal(compiled.jsonSchemaText, null, "no JSON Schema: only local validation");
    assert.deepEqual(await compiled.validate({ n: 1 }, "data"), { ok: true });
    assert.deepEqual(await compiled.validate({ n: -1 }, "data"), { ok: false, message: "data.n: must be a positive number" });
  });

  test("a TypeBox type is accepted as an input schema and validates", async () => {
    const task = defineTask({ name: "typed", input: Type.Object({ email: Type.String() }), run: () => 1 });
    assert.deepEqual(await task.input?.validate({ email: "a@b" }, "data"), { ok: true });
    assert.deepEqual(await task.input?.validate({ email: 1 }, "data"), { ok: false, message: "data.email must be string" });
  });

  test("task definitions refuse bad names and compile schemas up front", () => {
    assert.throws(() => defineTask({ name: "has space", run: () => 1 }), /Invalid task name/);
    assert.throws(() => defineTask({ name: "", run: () => 1 }), /Invalid task name/);
    assert.throws(() => defineTask({ name: "ok", timeout: "soon", run: () => 1 }), /Invalid duration/);
    const task = defineTask({ name: "ok", input: { type: "object" }, timeout: "1m", run: () => 1 });
    assert.equal(task.timeoutMs, 60_000);
    assert.equal(task.input?.jsonSchemaText, '{"type":"object"}');
  });
});

describe("manual clock", () => {
  test("timers fire in due order as time moves; sleepers can be awaited and aborted", async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push("b"));
    clock.setTimer(10, () => fired.push("a"));
    const cancel = clock.setTimer(20, () => fired.push("cancelled"));
    cancel();
    clock.advance(25);
    assert.deepEqual(fired, ["a"]);
    assert.equal(clock.now(), 25);
    clock.advance(5);
    assert.deepEqual(fired, ["a", "b"]);
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    await clock.whenSleeping(1);
    controller.abort(new Error("stop"));
    await assert.rejects(sleeping, /stop/);
    assert.equal(clock.pendingTimers(), 0);
  });
});

describe("system clock", () => {
  test("timers and sleeps longer than Node's timer limit (2^31 - 1 ms, 24.8 days) end when due, not at once or early", async () => {
    const DAY = 86_400_000;
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const fired: string[] = [];
      systemClock.setTimer(30 * DAY, () => fired.push("timer"));
      const cancel = systemClock.setTimer(30 * DAY, () => fired.push("cancelled"));
      let slept = false;
      const sleeping = systemClock.sleep(30 * DAY).then(() => {
        slept = true;
      });
      mock.timers.tick(2_147_483_647);
      cancel();
      mock.timers.tick(30 * DAY - 2_147_483_647 - 1);
      await Promise.resolve();
      assert.deepEqual([fired, slept], [[], false], "nothing ends before its 30 days");
      mock.timers.tick(1);
      await sleeping;
      assert.deepEqual(fired, ["timer"]);
    } finally {
      mock.timers.reset();
    }
  });
});

describe("database URLs", () => {
  test("SQLite paths, prefixes and the sync option; another database's URL refused; Postgres schema and pool size", async () => {
    const { splitSqliteUrl, splitPostgresUrl } = await import("../src/store/open-store.js");
    assert.deepEqual(splitSqliteUrl("./zart.db"), { path: "./zart.db", sync: undefined });
    assert.deepEqual(splitSqliteUrl("sqlite:/var/z.db?sync=full"), { path: "/var/z.db", sync: "full" });
    assert.deepEqual(splitSqliteUrl("file:z.db"), { path: "z.db", sync: undefined });
    assert.throws(() => splitSqliteUrl("z.db?sync=sometimes"), /sync must be/);
    assert.throws(() => splitSqliteUrl("mysql://u@h/db"), { name: "RangeError", message: /^Unsupported database URL "mysql:\/\/…"/ });
    assert.deepEqual(splitSqliteUrl("sqlite://z.db"), { path: "z.db", sync: undefined });
    assert.deepEqual(splitPostgresUrl("postgres://u:p@h:5/db?schema=zz&pool_size=4&sslmode=disable"), {
      connectionUrl: "postgres://u:p@h:5/db?sslmode=disable",
      schema: "zz",
      poolSize: 4,
    });
    assert.throws(() => splitPostgresUrl("postgres://h/db?pool_size=0"), /pool_size/);
  });
});

describe("a run's abort", () => {
  const reasonOf = (stop: RunAbort) => stop.reason?.reason ?? null;

  test("the first reason wins; the runner's race settles before what the signal's listeners reject", async () => {
    const stop = new RunAbort();
    // A step's attempt rejects from a listener on the signal; the runner's race must still see the abort first.
    const step = new Promise<string>((_, reject) => stop.signal.addEventListener("abort", () => reject(new Error("step"))));
    const raced = Promise.race([stop.whenAborted(() => "runner"), step]);
    assert.equal(reasonOf(stop), null);
    stop.abort("timeout");
    stop.abort("cancelled");
    assert.equal(await raced, "runner");
    await assert.rejects(step, /step/);
    assert.equal(stop.signal.aborted, true);
    assert.equal(reasonOf(stop), "timeout");
  });

  test("steps race one rejection per run, rejected with the abort's error; asked for after the abort, already rejected", async () => {
    const stop = new RunAbort();
    const rejection = stop.rejection();
    assert.equal(stop.rejection(), rejection, "one promise per run, whatever the number of steps");
    const raced = Promise.race([new Promise(() => {}), rejection]);
    stop.abort("cancelled");
    await assert.rejects(raced, (error) => error === stop.reason);
    await assert.rejects(stop.rejection(), (error) => error === stop.reason);
  });

  test("a signal asked for after the abort is made already aborted, with the same reason", async () => {
    const stop = new RunAbort();
    stop.abort("shutdown");
    assert.equal(stop.signal.aborted, true);
    assert.equal(stop.signal.reason, stop.reason);
    assert.equal(await stop.whenAborted((error) => error), stop.reason);
  });
});

describe("the terminal cache", () => {
  const record = (id: string) => ({ id, status: "completed", dataJson: "{}", outputJson: '"ok"', error: null }) as ExecutionRecord;

  test("a record this process wrote is made when first read, once; has() does not make it", () => {
    let now = 0;
    const cache = new TerminalCache(() => now);
    let made = 0;
    const written = record("exec-1");
    cache.rememberWritten("exec-1", written, () => {
      made += 1;
      return written;
    });
    assert.equal(cache.has("exec-1"), true);
    assert.equal(made, 0);
    assert.equal(cache.get("exec-1"), written);
    assert.equal(cache.get("exec-1"), written);
    assert.equal(made, 1);
    now += TERMINAL_RECORD_TTL_MS;
    assert.equal(cache.get("exec-1"), undefined, "expired");
    assert.equal(made, 1);
  });

  test("an output over the size bound is not kept, whether read or written here", () => {
    const cache = new TerminalCache(() => 0);
    const large = { ...record("exec-2"), dataJson: `"${"x".repeat(16 * 1024)}"` };
    cache.rememberWritten("exec-2", large, () => large);
    cache.remember({ ...record("exec-3"), outputJson: "x".repeat(16 * 1024 + 1) });
    assert.equal(cache.has("exec-2"), false);
    assert.equal(cache.has("exec-3"), false);
  });
});
