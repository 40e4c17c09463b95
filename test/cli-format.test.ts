/**
 * The client commands' pure parts: formatters rendering recorded API JSON at a fixed `now`, tables
 * and times, the spinner's text, and the options resolved at the edge (server, token, colour, spinner,
 * data sources). The commands themselves run end to end in cli-client.test.ts, cli-operations.test.ts,
 * cli-schedules.test.ts and cli-prune.test.ts.
 *
 * Long because it is a table of recorded cases per formatter, all rendered at the same fixed `now`
 * from the same fixtures; each case is a few lines.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stripVTControlCharacters } from "node:util";
import { resolveClientSettings } from "../src/cli/client-settings.js";
import { readData } from "../src/cli/commands/arguments.js";
import { ConfigError } from "../src/cli/config-error.js";
import { formatCancel, formatEventDelivery, formatPrune, formatRerun, formatRetry, formatStats } from "../src/cli/format/actions.js";
import { formatExecution, formatExecutionList, formatScheduled, formatWaitResult, waitExitCode } from "../src/cli/format/executions.js";
import { formatTasks, formatWorkers } from "../src/cli/format/fleet.js";
import { renderTable } from "../src/cli/format/layout.js";
import { createPalette, PLAIN } from "../src/cli/format/palette.js";
import { elapsed, progressText } from "../src/cli/format/progress.js";
import { formatSchedule, formatScheduleDeleted, formatScheduleList } from "../src/cli/format/schedules.js";
import { formatSteps } from "../src/cli/format/steps.js";
import { formatDuration, relativeTime } from "../src/cli/format/time.js";
import type { View } from "../src/cli/format/view.js";
import type { Terminal } from "../src/cli/terminal.js";
import { wantsColor, wantsSpinner } from "../src/cli/terminal.js";
import type { Execution } from "../src/client/index.js";
import { FAILED_STEPS, RECORDED_NOW, RERUN, RETRIED, SCHEDULE, SCHEDULES, STEPS, TASKS, WORKERS } from "./support/recorded-api-json.js";

const view: View = { now: RECORDED_NOW, palette: PLAIN };
const colour: View = { now: RECORDED_NOW, palette: createPalette(true) };
const lines = (...text: string[]) => text.join("\n");

describe("times", () => {
  it("says how long ago or until, in the largest whole unit", () => {
    const at = (offsetMs: number) => new Date(RECORDED_NOW + offsetMs).toISOString();
    assert.equal(relativeTime(at(-400), RECORDED_NOW), "just now");
    assert.equal(relativeTime(at(-42_000), RECORDED_NOW), "42 s ago");
    assert.equal(relativeTime(at(-3 * 60_000 - 59_000), RECORDED_NOW), "3 min ago");
    assert.equal(relativeTime(at(-5 * 3_600_000), RECORDED_NOW), "5 h ago");
    assert.equal(relativeTime(at(-86_400_000), RECORDED_NOW), "1 day ago");
    assert.equal(relativeTime(at(-3 * 86_400_000), RECORDED_NOW), "3 days ago");
    assert.equal(relativeTime(at(5 * 60_000), RECORDED_NOW), "in 5 min");
    assert.equal(relativeTime("not a time", RECORDED_NOW), "not a time");
  });

  it("formats durations from milliseconds to days", () => {
    assert.deepEqual([12, 999, 1450, 59_999, 185_000, 7_380_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatDuration), [
      "12ms",
      "999ms",
      "1.4s",
      "59.9s",
      "3m 05s",
      "2h 03m",
      "3d 4h",
    ]);
  });
});

describe("tables", () => {
  it("aligns columns on the visible text when cells are coloured, right-aligns counts, leaves no trailing blanks", () => {
    const palette = createPalette(true);
    const table = renderTable(
      ["NAME", { header: "N", right: true }, "STATUS"],
      [
        ["a", "1", { text: "completed", paint: palette.status("completed") }],
        ["longer-name", "100", { text: "failed", paint: palette.status("failed") }],
      ],
      palette,
    );
    assert.ok(table.includes("\x1b[32mcompleted"), "statuses are coloured when the palette is on");
    assert.equal(
      stripVTControlCharacters(table),
      lines("NAME           N  STATUS", "a              1  completed", "longer-name  100  failed"),
    );
  });

  it("a palette that is off adds nothing", () => {
    assert.equal(formatStats({ pending: 1, running: 0, waiting: 0, completed: 2, failed: 0, cancelled: 0 }, view).includes("\x1b"), false);
  });
});

describe("formatters on recorded API JSON", () => {
  it("steps: one row per step, sleep, event wait and child; failed attempts listed after", () => {
    assert.equal(
      formatSteps(STEPS, view),
      lines(
        "exec-7f3a9b2c",
        "#  NAME                KIND   STATUS     STARTED    DURATION  ATTEMPTS  DETAIL",
        "1  create-account      step   completed  6 min ago      12ms         1",
        "2  send-welcome-email  step   completed  6 min ago      2.5s         2",
        "3  settle              sleep  completed  6 min ago    2m 00s         -  woke 4 min ago",
        "4  send-report         child  completed  4 min ago      1.0s         -  child exec-c41d0a11",
        "5  manager-approval    event  waiting    4 min ago         -         -  times out in 23 h",
        "failed attempts",
        "  send-welcome-email attempt 1 (execution attempt 1, 6 min ago): TimeoutError: SMTP timeout [ETIMEDOUT]",
      ),
    );
    assert.match(formatSteps(FAILED_STEPS, view), /card declined \[card_declined\]; copied from exec-0ld0ld00/);
    assert.equal(formatSteps({ execution_id: "exec-1", steps: [] }, view), "exec-1: no steps reached yet");
    assert.ok(formatSteps(FAILED_STEPS, colour).includes("\x1b[31mfailed"));
  });

  it("tasks and workers", () => {
    assert.equal(
      formatTasks(TASKS, view),
      lines(
        "TASK           WORKERS  LAST SEEN  PENDING  RUNNING  WAITING  COMPLETED  FAILED  CANCELLED  INPUT SCHEMA",
        "onboarding           2  2 s ago          1        2       14       1203       3          0  yes",
        "legacy-import        0  -                0        0        0          7       0          0  no",
      ),
    );
    assert.equal(
      formatWorkers(WORKERS, view),
      lines(
        "WORKER ID  HOST    PID  RUNNING  STARTED  LAST SEEN  TASKS",
        "wrk-9x2k   app-1  4242     3/50  2 h ago  3 s ago    onboarding, echo",
      ),
    );
    assert.equal(formatTasks({ tasks: [] }, view), "no tasks: no worker serves one and no execution exists");
    assert.equal(formatWorkers({ workers: [] }, view), "no live workers");
  });

  it("schedules: the list with the next fire time, one schedule with its fire times and data", () => {
    assert.equal(
      formatScheduleList(SCHEDULES, view),
      lines(
        "SCHEDULE ID     TASK    CRON       TIMEZONE       OVERLAP     STATE   NEXT FIRE",
        "nightly-report  report  0 3 * * *  Europe/Berlin  skip        active  in 14 h (2026-04-05T01:00:00Z)",
        "hourly-sync     sync    0 * * * *  UTC            buffer_one  paused  -",
      ),
    );
    assert.equal(
      formatSchedule(SCHEDULE, view),
      lines(
        "nightly-report",
        "  task        report",
        "  cron        0 3 * * *",
        "  timezone    Europe/Berlin",
        "  overlap     skip",
        "  state       active",
        "  source      api",
        "  last fired  2026-04-04T01:00:00Z (9 h ago)",
        "  created     2026-04-01T09:00:00Z (3 days ago)",
        "next fire times",
        "  2026-04-05T01:00:00Z (in 14 h)",
        "  2026-04-06T01:00:00Z (in 1 day)",
        "data",
        "  {",
        '    "format": "pdf"',
        "  }",
      ),
    );
    assert.equal(formatScheduleList({ schedules: [] }, view), "no schedules");
    assert.equal(formatScheduleDeleted({ schedule_id: "nightly-report", deleted: true }, view), "schedule nightly-report deleted");
  });

  it("retry, rerun, prune, cancel, send", () => {
    assert.equal(formatRetry(RETRIED, view), "exec-f00dfeed retried: pending (attempt 2)");
    assert.equal(
      formatRerun(RERUN, view, { from_step: "charge-card" }),
      'exec-n3wrun00  checkout  pending  (rerun of exec-f00dfeed, from step "charge-card")',
    );
    assert.equal(formatRerun(RERUN, view, {}), "exec-n3wrun00  checkout  pending  (rerun of exec-f00dfeed, from the start)");
    assert.equal(formatPrune({ pruned: 1 }), "pruned 1 execution");
    assert.equal(formatPrune({ pruned: 1500 }), "pruned 1500 executions");
    assert.equal(formatCancel({ execution_id: "exec-1", status: "cancelled" }, view), "exec-1 cancelled");
    assert.equal(
      formatEventDelivery({ status: "delivered", execution_id: "exec-1", event_name: "go" }, view),
      'event "go" delivered to exec-1',
    );
    assert.equal(
      formatEventDelivery({ status: "buffered", execution_id: "exec-1", event_name: "go" }, view),
      'event "go" buffered for exec-1: its next wait for "go" takes it',
    );
  });

  it("get: fields with relative times, the additive fields when set, output and error", () => {
    const failed: Execution = {
      ...RETRIED,
      status: "failed",
      completed_at: "2026-04-04T10:29:01Z",
      error: { message: "card declined", step: "charge-card", code: "card_declined" },
      parent_execution_id: "exec-parent01",
      rerun_of: "exec-0ld0ld00",
      schedule_id: "nightly-report",
      priority: 5,
      concurrency_key: "customer-42",
      start_at: "2026-04-04T10:28:00Z",
      buffered_events: 2,
    };
    assert.equal(
      formatExecution(failed, view),
      lines(
        "exec-f00dfeed",
        "  task             checkout",
        "  status           failed",
        "  steps completed  2",
        "  attempt          2",
        "  created          2026-04-04T10:28:00Z (2 min ago)",
        "  started          2026-04-04T10:28:00Z (2 min ago)",
        "  completed        2026-04-04T10:29:01Z (59 s ago)",
        "  duration         1m 01s",
        "  parent           exec-parent01",
        "  rerun of         exec-0ld0ld00",
        "  schedule         nightly-report",
        "  priority         5",
        "  concurrency key  customer-42",
        "  start at         2026-04-04T10:28:00Z (2 min ago)",
        "  buffered events  2",
        "error",
        '  card declined (step "charge-card") [card_declined]',
      ),
    );
    const waiting: Execution = {
      ...RETRIED,
      status: "waiting",
      current_step: "manager-approval",
      waiting_for_event: "manager-approval",
      idempotency_key: "signup-u123",
    };
    const text = formatExecution(waiting, view);
    assert.match(text, /status {11}waiting \(for event "manager-approval"\)/);
    assert.match(text, /current step {5}manager-approval/);
    assert.match(text, /idempotency key {2}signup-u123/);
    assert.doesNotMatch(text, /parent|output|error/);
    assert.match(
      formatExecution({ ...RETRIED, status: "completed", output: { ok: true } }, view),
      /\noutput\n {2}\{\n {4}"ok": true\n {2}\}$/,
    );
  });

  it("list: a table and the paging line", () => {
    const page = {
      executions: [
        {
          execution_id: "exec-aaaaaaaa",
          task: "echo",
          status: "completed" as const,
          started_at: "2026-04-04T10:29:00Z",
          created_at: "2026-04-04T10:29:00Z",
          completed_at: "2026-04-04T10:29:00.250Z",
          current_step: null,
          waiting_for_event: null,
        },
        {
          execution_id: "exec-bbbbbbbb",
          task: "onboarding",
          status: "pending" as const,
          started_at: null,
          created_at: "2026-04-04T10:20:00Z",
          completed_at: null,
          current_step: null,
          waiting_for_event: null,
        },
      ],
      total: 7,
      limit: 2,
      offset: 2,
    };
    assert.equal(
      formatExecutionList(page, view),
      lines(
        "EXECUTION ID   TASK        STATUS     CREATED     DURATION",
        "exec-aaaaaaaa  echo        completed  1 min ago   250ms",
        "exec-bbbbbbbb  onboarding  pending    10 min ago  -",
        "3-4 of 7; next page: --offset 4",
      ),
    );
    assert.equal(formatExecutionList({ executions: [], total: 0, limit: 50, offset: 0 }, view), "no executions");
    assert.equal(formatExecutionList({ executions: [], total: 3, limit: 50, offset: 10 }, view), "no executions at offset 10 (3 in all)");
  });

  it("start and wait, with the wait's exit codes", () => {
    assert.equal(
      formatScheduled({ execution_id: "exec-1", task: "echo", status: "pending", created_at: "2026-04-04T10:30:00Z" }, view),
      "exec-1  echo  pending",
    );
    const completed = {
      done: true as const,
      execution_id: "exec-1",
      status: "completed" as const,
      output: [1, 2],
      completed_at: "2026-04-04T10:29:30Z",
    };
    assert.equal(formatWaitResult(completed, view), lines("exec-1 completed 30 s ago", "output", "  [", "    1,", "    2", "  ]"));
    const failed = {
      done: true as const,
      execution_id: "exec-1",
      status: "failed" as const,
      output: null,
      completed_at: "2026-04-04T10:30:00Z",
      error: { message: "boom", step: "s1" },
    };
    assert.equal(formatWaitResult(failed, view), lines("exec-1 failed just now", "error", '  boom (step "s1")'));
    const pending = {
      done: false as const,
      execution_id: "exec-1",
      status: "waiting" as const,
      message: "Timeout reached. Execution is still running.",
    };
    assert.equal(formatWaitResult(pending, view), "exec-1 has not ended: still waiting (Timeout reached. Execution is still running.)");
    assert.deepEqual([completed, failed, { ...failed, status: "cancelled" as const }, pending].map(waitExitCode), [0, 1, 1, 3]);
  });
});

describe("the spinner's text", () => {
  it("shows the status and the current step or awaited event, then the elapsed time", () => {
    assert.equal(progressText("exec-1", undefined, 0), "exec-1 · 0.0s");
    assert.equal(
      progressText("exec-1", { status: "running", current_step: "charge", waiting_for_event: null }, 1234),
      "exec-1 · running · step charge · 1.2s",
    );
    assert.equal(
      progressText("exec-1", { status: "waiting", current_step: "approval", waiting_for_event: "approval" }, 75_000),
      "exec-1 · waiting · event approval · 1m 15s",
    );
    assert.equal(elapsed(59_960), "59.9s");
  });

  it("is cut to the terminal's width so the line never wraps, keeping the elapsed time in view", () => {
    const text = progressText("exec-1", { status: "running", current_step: "a-very-long-step-name", waiting_for_event: null }, 0, 20);
    assert.equal(Array.from(text).length, 20);
    assert.equal(text, "exec-1 · run… · 0.0s");
    assert.equal(progressText("exec-1", undefined, 0, 8), "exec-1 …");
  });
});

describe("options resolved at the edge", () => {
  it("--server over ZART_SERVER over the default; --token over ZART_TOKEN; --request-timeout over ZART_REQUEST_TIMEOUT", () => {
    const none = { token: undefined, json: false, requestTimeoutMs: undefined };
    assert.deepEqual(resolveClientSettings({}, {}), { server: "http://127.0.0.1:7700", ...none });
    const env = { ZART_SERVER: "http://env:1/", ZART_TOKEN: "env-token", ZART_REQUEST_TIMEOUT: "2m" };
    assert.deepEqual(resolveClientSettings({}, env), {
      server: "http://env:1",
      token: "env-token",
      json: false,
      requestTimeoutMs: 120_000,
    });
    assert.deepEqual(resolveClientSettings({ server: "https://flag:2", token: "flag-token", json: true, requestTimeout: "1.5s" }, env), {
      server: "https://flag:2",
      token: "flag-token",
      json: true,
      requestTimeoutMs: 1500,
    });
    assert.equal(resolveClientSettings({}, { ZART_SERVER: "", ZART_TOKEN: "" }).server, "http://127.0.0.1:7700");
    assert.equal(resolveClientSettings({}, { ZART_TOKEN: "" }).token, undefined);
  });

  it("a server that is not an http(s) URL is a usage error", () => {
    assert.throws(
      () => resolveClientSettings({ server: "localhost:7700" }, {}),
      (e: Error) => e instanceof ConfigError && /http/.test(e.message),
    );
    assert.throws(() => resolveClientSettings({ server: "not a url" }, {}), /server must be a URL/);
  });

  it("colour only on a TTY without NO_COLOR; a spinner only on a TTY, not TERM=dumb or CI", () => {
    assert.equal(wantsColor(true, {}), true);
    assert.equal(wantsColor(false, {}), false);
    assert.equal(wantsColor(undefined, {}), false);
    assert.equal(wantsColor(true, { NO_COLOR: "1" }), false);
    assert.equal(wantsColor(true, { TERM: "dumb" }), false);
    assert.equal(wantsSpinner(true, { NO_COLOR: "1" }), true);
    assert.equal(wantsSpinner(false, {}), false);
    assert.equal(wantsSpinner(true, { CI: "true" }), false);
    assert.equal(wantsSpinner(true, { TERM: "dumb" }), false);
  });
});

describe("data from --data, --data-file or standard input", () => {
  const terminal = (files: Record<string, string>, stdin = "") =>
    ({
      readFile: (path: string) => {
        const text = files[path];
        if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
        return text;
      },
      readStdin: async () => stdin,
    }) as unknown as Terminal;

  it("reads exactly one source", async () => {
    const io = terminal({ "d.json": '{"from":"file"}' }, '{"from":"stdin"}');
    assert.deepEqual(await readData({ data: '{"from":"flag"}' }, undefined, io), { from: "flag" });
    assert.deepEqual(await readData({ dataFile: "d.json" }, undefined, io), { from: "file" });
    assert.deepEqual(await readData({}, "-", io), { from: "stdin" });
    assert.equal(await readData({}, undefined, io), undefined);
  });

  it("refuses two sources, unreadable files and text that is not JSON", async () => {
    const io = terminal({ "bad.json": "{nope" }, "[1,");
    const usage = (pattern: RegExp) => (e: Error) => e instanceof ConfigError && pattern.test(e.message);
    await assert.rejects(readData({ data: "1", dataFile: "bad.json" }, undefined, io), usage(/--data and --data-file/));
    await assert.rejects(readData({ data: "1" }, "-", io), usage(/--data and -/));
    await assert.rejects(readData({ dataFile: "missing.json" }, undefined, io), usage(/cannot read --data-file missing\.json/));
    await assert.rejects(readData({ dataFile: "bad.json" }, undefined, io), usage(/--data-file bad\.json is not valid JSON/));
    await assert.rejects(readData({ data: "{x" }, undefined, io), usage(/--data is not valid JSON/));
    await assert.rejects(readData({}, "-", io), usage(/standard input is not valid JSON/));
  });
});
