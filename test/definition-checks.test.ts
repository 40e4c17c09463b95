/**
 * Definitions that would otherwise silently do less than they say: a misspelt retry option or value, a
 * JSON Schema with a keyword of the wrong shape (which checks nothing), and a task module's default-export
 * array holding something that is not a task. Each is refused where it is defined, naming what is wrong;
 * inside a workflow (a step's retry, a wait's schema) it fails the execution as a definition error, once.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Type } from "typebox";
import { loadTaskModules } from "../src/cli/load-tasks.js";
import { type RetryPolicy, resolveRetryPolicy } from "../src/core/retry-policy.js";
import { defineSchedule, type ScheduleOptions } from "../src/core/schedule.js";
import { compileSchema } from "../src/core/schema.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";

const LONG = 1e9;

describe("retry options", () => {
  test("a misspelt option or value is refused, naming it, rather than silently not applied", () => {
    const refused = (policy: unknown, message: RegExp) =>
      assert.throws(() => resolveRetryPolicy(policy as RetryPolicy), message, JSON.stringify(policy));
    refused({ maxAttempt: 3 }, /^TypeError: retry\.maxAttempt is not an option here \(use maxAttempts, backoff/);
    refused({ backoff: "linear" }, /retry\.backoff must be "fixed" or "exponential", got "linear"/);
    refused({ retryIf: true }, /retry\.retryIf must be a function/);
    refused({ jitter: "0.5" }, /retry\.jitter must be within 0\.\.1/);
    refused({ factor: "2" }, /retry\.factor must be >= 1/);
    refused({ initialDelay: "1 sec" }, /retry\.initialDelay: Invalid duration/);
    refused({ maxDelay: -1 }, /retry\.maxDelay: Invalid duration/);
    refused(3, /retry must be an object of retry options/);
    refused([], /retry must be an object of retry options/);
    assert.equal(resolveRetryPolicy(null as unknown as RetryPolicy).maxAttempts, 1, "null is no policy, as undefined is");
    assert.equal(resolveRetryPolicy({ backoff: "fixed", retryIf: () => true }).backoff, "fixed");
  });

  test("a task's bad retry option fails defineTask naming the task", () => {
    const retry = { backoff: "linear" } as unknown as RetryPolicy;
    assert.throws(() => defineTask({ name: "linear", retry, run: () => 1 }), /^TypeError: Task "linear": retry\.backoff must be/);
  });

  test("a misspelt task or concurrency option fails defineTask naming the task and the option", () => {
    const run = () => 1;
    const task = (options: object) => defineTask({ name: "t", run, ...options } as Parameters<typeof defineTask>[0]);
    assert.throws(() => task({ retries: 3 }), /^TypeError: Task "t": options\.retries is not an option here \(use name, input/);
    assert.throws(() => task({ concurrency: { limit: 2, keys: () => "k" } }), /Task "t": concurrency\.keys is not an option here/);
    assert.throws(() => task({ concurrency: { limit: 2, key: "customer" } }), /Task "t": concurrency\.key must be a function/);
    assert.throws(() => task({ concurrency: 2 }), /Task "t": concurrency must be an object/);
    assert.equal(task({ concurrency: { limit: 2, key: () => "k" } }).concurrency?.keyed, true);
  });

  test("a step's, a wait's or a child's misspelt option fails the execution as invalid_argument, naming the call and the option", async () => {
    const sloppy = defineTask({
      name: "sloppy-options",
      async run(ctx, data: { call: string }) {
        if (data.call === "step") await ctx.step("send", () => "sent", { maxAttempts: 5 } as object);
        else if (data.call === "wait") await ctx.waitForEvent("approved", { timeOut: "1h" } as object);
        else if (data.call === "child") await ctx.runChild("kid", "sloppy-options", { call: "none" }, { detach: true } as object);
        else if (data.call === "detached") await ctx.startChild("kid", "sloppy-options", { call: "none" }, { detached: "yes" } as object);
        return "went on";
      },
    });
    const h = await createTestEngine({ tasks: [sloppy] });
    try {
      for (const [call, message] of [
        ["step", /step\("send"\): options\.maxAttempts is not an option here \(use retry, timeout\)/],
        ["wait", /waitForEvent\("approved"\): options\.timeOut is not an option here \(use timeout, schema\)/],
        ["child", /runChild\("kid"\): options\.detach is not an option here \(use detached, priority, startAt, concurrencyKey\)/],
        ["detached", /startChild\("kid"\): options\.detached must be a boolean/],
      ] as const) {
        const { execution } = await h.engine.schedule({ task: "sloppy-options", data: { call } });
        const done = await h.engine.waitForTerminal(execution.id, LONG);
        assert.deepEqual([done.status, done.error?.code], ["failed", "invalid_argument"], call);
        assert.match(done.error?.message ?? "", message);
      }
    } finally {
      await h.close();
    }
  });

  test("a step's bad retry option fails the execution once as invalid_argument, even caught, and is not retried", async () => {
    let runs = 0;
    const misspelt = defineTask({
      name: "misspelt-step-retry",
      retry: { maxAttempts: 3, initialDelay: 0 },
      async run(ctx) {
        runs++;
        try {
          await ctx.step("send", () => "sent", { retry: { maxAttempt: 5 } as unknown as RetryPolicy });
        } catch {
          // carries on as if the step had run
        }
        return "went on";
      },
    });
    const h = await createTestEngine({ tasks: [misspelt] });
    try {
      const { execution } = await h.engine.schedule({ task: "misspelt-step-retry", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual([done.status, done.error?.code, runs], ["failed", "invalid_argument", 1]);
      assert.match(done.error?.message ?? "", /step\("send"\): retry\.maxAttempt is not an option here/);
    } finally {
      await h.close();
    }
  });
});

describe("JSON Schemas", () => {
  test("a keyword of the wrong shape is refused at definition, naming where; valid schemas of any draft pass", () => {
    const refused = (schema: object, message: RegExp) => assert.throws(() => compileSchema(schema), message, JSON.stringify(schema));
    refused({ type: "strnig" }, /not a valid JSON Schema: type must be one of array, boolean, integer, null, number, object, string/);
    refused({ type: "object", required: "email" }, /not a valid JSON Schema: required must be array/);
    refused({ type: "object", properties: { n: { type: "integr" } } }, /not a valid JSON Schema: properties\.n\.type must be one of/);
    refused({ minimum: "3" }, /not a valid JSON Schema: minimum must be number/);
    refused({ $schema: "http://json-schema.org/draft-07/schema", items: { enum: 3 } }, /items\.enum must be array/);
    for (const schema of [
      { type: "object", required: ["email"], properties: { email: { type: "string" } } },
      { type: ["string", "null"] },
      { $schema: "http://json-schema.org/draft-07/schema#", definitions: { x: { type: "string" } }, $ref: "#/definitions/x" },
      { $schema: "https://example.com/own-dialect", type: "string" },
      Type.Object({ tags: Type.Array(Type.String()), at: Type.Optional(Type.Union([Type.String(), Type.Null()])) }),
    ]) {
      assert.doesNotThrow(() => compileSchema(schema), JSON.stringify(schema));
    }
  });

  test("a task's or event's bad schema fails defineTask naming the task and the schema", () => {
    const input = { type: "object", required: "email" };
    assert.throws(() => defineTask({ name: "signup", input, run: () => 1 }), /^TypeError: Task "signup": input: not a valid JSON Schema/);
    const eventSchemas = { approved: { type: "boolen" } };
    assert.throws(
      () => defineTask({ name: "review", eventSchemas, run: () => 1 }),
      /Task "review": eventSchemas\["approved"\]: not a valid/,
    );
  });

  test("a wait's bad schema fails the execution as invalid_argument, naming the wait", async () => {
    const waiter = defineTask({
      name: "bad-wait-schema",
      run: (ctx) => ctx.waitForEvent("approved", { schema: { type: "object", properties: { ok: { type: "bool" } } } }),
    });
    const h = await createTestEngine({ tasks: [waiter] });
    try {
      const { execution } = await h.engine.schedule({ task: "bad-wait-schema", data: {} });
      const done = await h.engine.waitForTerminal(execution.id, LONG);
      assert.deepEqual([done.status, done.error?.code], ["failed", "invalid_argument"]);
      assert.match(done.error?.message ?? "", /waitForEvent\("approved"\) schema: not a valid JSON Schema: properties\.ok\.type/);
    } finally {
      await h.close();
    }
  });
});

describe("schedules", () => {
  test("a misspelt schedule option (timeZone for timezone) fails defineSchedule rather than firing in UTC", () => {
    // A key set to undefined is as good as absent (an options object spread from optional fields).
    const options = { schedule_id: "nightly", task: "report", cron: "0 3 * * *", timeZone: "Europe/Berlin" };
    assert.throws(
      () => defineSchedule(options as ScheduleOptions),
      /^TypeError: Schedule "nightly": options\.timeZone is not an option here \(use schedule_id, task, cron, timezone/,
    );
    assert.equal(
      defineSchedule({ ...options, timeZone: undefined, timezone: "Europe/Berlin" } as ScheduleOptions).timezone,
      "Europe/Berlin",
    );
  });
});

describe("task lists", () => {
  test("an engine's tasks list holding something that is not a task is refused, naming its place", async () => {
    const a = defineTask({ name: "a", run: () => 1 });
    // Its temporary directory goes with the refusal: createTestEngine made one in TMPDIR before the check.
    const scratch = mkdtempSync(join(tmpdir(), "zart-refused-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    try {
      for (const [item, shown] of [
        [undefined, "undefined"],
        [{ name: "b" }, "an object"],
        ["b", "a string"],
      ] as const) {
        await assert.rejects(
          createTestEngine({ tasks: [a, item as unknown as typeof a] }),
          new RegExp(`^TypeError: tasks\\[1\\] is ${shown}, not a task made with defineTask`),
        );
      }
      assert.deepEqual(readdirSync(scratch), [], "no directory left by a refused test engine");
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test("a task module's default-export array holding something that is not a task or schedule is refused, naming its place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zart-default-array-"));
    const taskModule = new URL("../src/core/task.js", import.meta.url).href;
    try {
      const bad = join(dir, "bad.mjs");
      writeFileSync(
        bad,
        `import { defineTask } from ${JSON.stringify(taskModule)};\n` +
          `const a = defineTask({ name: "a", run: () => 1 });\nexport default [a, undefined, "b"];\n`,
      );
      await assert.rejects(
        loadTaskModules([bad]),
        /task module .*bad\.mjs: its default export's item 1 is undefined, not a task or schedule definition/,
      );
      const good = join(dir, "good.mjs");
      writeFileSync(
        good,
        `import { defineTask } from ${JSON.stringify(taskModule)};\n` +
          `export const helper = () => 1;\nexport default [defineTask({ name: "a", run: () => 1 })];\n`,
      );
      assert.deepEqual(
        (await loadTaskModules([good])).tasks.map((t) => t.name),
        ["a"],
        "named helpers beside the tasks stay allowed",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
