/**
 * Logging seen by task authors: `ctx.log` names the execution everywhere and the step inside a step;
 * `step.log` names its step even when steps run in parallel; and an engine given no logger writes pino
 * JSON lines on stderr at level info (stdout stays the application's).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Logger } from "../src/core/logger.js";
import { defineTask } from "../src/core/task.js";
import { createTestEngine } from "../src/testing/index.js";
import { runToEnd, tsArgs } from "./support/child-process.js";

interface Line {
  level: string;
  bindings: Record<string, unknown>;
  msg: string;
  fields: Record<string, unknown>;
}

/** A Logger that keeps every line with the bindings of the child it was written through. */
function recorder(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object | string, msg?: string) => {
    const fields = typeof obj === "string" ? {} : (obj as Record<string, unknown>);
    lines.push({ level, bindings, msg: typeof obj === "string" ? obj : (msg ?? ""), fields });
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => recorder(lines, { ...bindings, ...more }),
  };
}

test("ctx.log carries the step name inside a step and only the execution outside", async () => {
  const lines: Line[] = [];
  const task = defineTask({
    name: "logs",
    async run(ctx) {
      ctx.log.info("before");
      await ctx.step("first", () => ctx.log.info("inside first, synchronously"));
      await ctx.step("second", async () => {
        await Promise.resolve();
        ctx.log.warn("inside second, after an await");
      });
      ctx.log.info("between");
      await Promise.all(
        ["left", "right"].map((name) =>
          ctx.step(name, async (step) => {
            await Promise.resolve();
            step.log.info(`parallel ${name}`);
          }),
        ),
      );
      ctx.log.info("after");
      return null;
    },
  });
  const h = await createTestEngine({ tasks: [task], logger: recorder(lines) });
  try {
    const { execution } = await h.engine.schedule({ task: "logs", data: {} });
    assert.equal((await h.engine.waitForTerminal(execution.id, 1e9)).status, "completed");
    const byMsg = (msg: string) => {
      const line = lines.find((l) => l.msg === msg);
      assert.ok(line, `no line "${msg}" in ${JSON.stringify(lines)}`);
      return line;
    };
    for (const msg of ["before", "between", "after"]) {
      assert.equal(byMsg(msg).bindings.executionId, execution.id);
      assert.equal(byMsg(msg).bindings.task, "logs");
      assert.equal(byMsg(msg).bindings.step, undefined, msg);
    }
    assert.equal(byMsg("inside first, synchronously").bindings.step, "first");
    assert.equal(byMsg("inside first, synchronously").bindings.executionId, execution.id);
    assert.equal(byMsg("inside second, after an await").bindings.step, "second");
    assert.equal(byMsg("inside second, after an await").level, "warn");
    assert.equal(byMsg("parallel left").bindings.step, "left");
    assert.equal(byMsg("parallel right").bindings.step, "right");
  } finally {
    await h.close();
  }
});

test("a retried step attempt and a task-level retry log the error itself (its stack), under err", async () => {
  const lines: Line[] = [];
  let runs = 0;
  const task = defineTask({
    name: "flaky-logs",
    retry: { maxAttempts: 2, initialDelay: "1m", jitter: 0 },
    async run(ctx) {
      runs++;
      await ctx.step(
        "call",
        () => {
          throw new Error(`down on run ${runs}`);
        },
        { retry: { maxAttempts: 2, initialDelay: 1000, jitter: 0 } },
      );
    },
  });
  const h = await createTestEngine({ tasks: [task], logger: recorder(lines) });
  try {
    const { execution } = await h.engine.schedule({ task: "flaky-logs", data: {} });
    await h.clock.whenSleeping(1);
    h.clock.advance(1000);
    await h.outcome(execution.id, "requeued");
    for (const msg of ["step attempt failed; retrying", "execution failed; task-level retry scheduled"]) {
      const line = lines.find((l) => l.msg === msg);
      assert.ok(line, `no line "${msg}"`);
      const err = line.fields.err as Error;
      assert.ok(err instanceof Error, `${msg}: err is ${typeof err}`);
      assert.match(err.stack ?? "", /down on run 1/, msg);
    }
  } finally {
    await h.close();
  }
});

test("an engine given no logger writes ctx.log lines as pino JSON on stderr at level info", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zart-default-logger-"));
  try {
    const fixture = new URL("./fixtures/default-logger-engine.ts", import.meta.url).pathname;
    const { code, stdout, stderr } = await runToEnd(process.execPath, [...tsArgs(fixture), join(dir, "zart.db")]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as { id: string; status: string; output: string };
    assert.equal(result.status, "completed");
    assert.equal(stdout.trim().split("\n").length, 1, "nothing but the fixture's own line on stdout");
    const logged = stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const greeting = logged.find((line) => line.msg === "composing greeting");
    assert.ok(greeting, `no greeting line on stderr: ${stderr}`);
    assert.equal(greeting.level, 30, "pino's info");
    assert.equal(greeting.step, "compose");
    assert.equal(greeting.executionId, result.id);
    assert.equal(greeting.to, "ada");
    assert.ok(!logged.some((line) => line.msg === "below the default level"), "debug is below the default level");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
