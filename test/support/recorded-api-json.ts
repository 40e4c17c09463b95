/**
 * Answers of the routes in operations.md §1, §2 and §5, written from the spec's shapes (times around
 * {@link RECORDED_NOW}). The formatter tests render them at a fixed time.
 */
import type { Execution, ExecutionSteps, RerunResult, Schedule, ScheduleList, TaskList, WorkerList } from "../../src/client/index.js";

/** The `now` the formatter tests render with: 2026-04-04T10:30:00Z. */
export const RECORDED_NOW = Date.parse("2026-04-04T10:30:00Z");

export const STEPS: ExecutionSteps = {
  execution_id: "exec-7f3a9b2c",
  steps: [
    {
      name: "create-account",
      kind: "step",
      status: "completed",
      started_at: "2026-04-04T10:23:15Z",
      completed_at: "2026-04-04T10:23:15.012Z",
      duration_ms: 12,
      attempts: [
        { attempt: 1, execution_attempt: 1, started_at: "2026-04-04T10:23:15Z", ended_at: "2026-04-04T10:23:15.012Z", error: null },
      ],
      result: { account_id: "acct_u123" },
      error: null,
    },
    {
      name: "send-welcome-email",
      kind: "step",
      status: "completed",
      started_at: "2026-04-04T10:23:16Z",
      completed_at: "2026-04-04T10:23:18.500Z",
      duration_ms: 2500,
      attempts: [
        {
          attempt: 1,
          execution_attempt: 1,
          started_at: "2026-04-04T10:23:16Z",
          ended_at: "2026-04-04T10:23:16.200Z",
          error: {
            message: "SMTP timeout",
            name: "TimeoutError",
            code: "ETIMEDOUT",
            stack: "TimeoutError: SMTP timeout\n    at send (mail.ts:10:5)",
          },
        },
        { attempt: 2, execution_attempt: 1, started_at: "2026-04-04T10:23:18Z", ended_at: "2026-04-04T10:23:18.500Z", error: null },
      ],
      result: { sent_to: "user@example.com" },
      error: null,
    },
    {
      name: "settle",
      kind: "sleep",
      status: "completed",
      started_at: "2026-04-04T10:23:19Z",
      completed_at: "2026-04-04T10:25:19Z",
      duration_ms: 120_000,
      attempts: [],
      wake_at: "2026-04-04T10:25:19Z",
      error: null,
    },
    {
      name: "send-report",
      kind: "child",
      status: "completed",
      started_at: "2026-04-04T10:25:20Z",
      completed_at: "2026-04-04T10:25:21Z",
      duration_ms: 1000,
      attempts: [],
      child_execution_id: "exec-c41d0a11",
      result: { pages: 3 },
      error: null,
    },
    {
      name: "manager-approval",
      kind: "event",
      status: "waiting",
      started_at: "2026-04-04T10:25:21Z",
      completed_at: null,
      duration_ms: null,
      attempts: [],
      timeout_at: "2026-04-05T10:25:21Z",
      error: null,
    },
  ],
};

export const FAILED_STEPS: ExecutionSteps = {
  execution_id: "exec-f00dfeed",
  steps: [
    {
      name: "charge-card",
      kind: "step",
      status: "failed",
      started_at: "2026-04-04T10:29:00Z",
      completed_at: "2026-04-04T10:29:01Z",
      duration_ms: 1000,
      attempts: [
        {
          attempt: 1,
          execution_attempt: 1,
          started_at: "2026-04-04T10:29:00Z",
          ended_at: "2026-04-04T10:29:01Z",
          error: { message: "card declined", code: "card_declined" },
        },
      ],
      error: { message: "card declined", code: "card_declined" },
      copied_from: "exec-0ld0ld00",
    },
  ],
};

export const TASKS: TaskList = {
  tasks: [
    {
      name: "onboarding",
      input_schema: { type: "object", required: ["user_id"] },
      workers: 2,
      last_seen_at: "2026-04-04T10:29:58Z",
      counts: { pending: 1, running: 2, waiting: 14, completed: 1203, failed: 3, cancelled: 0 },
    },
    { name: "legacy-import", input_schema: null, workers: 0, last_seen_at: null, counts: { completed: 7 } },
  ],
};

export const WORKERS: WorkerList = {
  workers: [
    {
      worker_id: "wrk-9x2k",
      host: "app-1",
      pid: 4242,
      tasks: ["onboarding", "echo"],
      concurrency: 50,
      running: 3,
      started_at: "2026-04-04T08:30:00Z",
      last_seen_at: "2026-04-04T10:29:57Z",
    },
  ],
};

export const RETRIED: Execution = {
  execution_id: "exec-f00dfeed",
  task: "checkout",
  status: "pending",
  steps_completed: 2,
  current_step: null,
  waiting_for_event: null,
  started_at: "2026-04-04T10:28:00Z",
  completed_at: null,
  output: null,
  error: null,
  created_at: "2026-04-04T10:28:00Z",
  attempt: 2,
  idempotency_key: null,
};

export const RERUN: RerunResult = {
  execution_id: "exec-n3wrun00",
  task: "checkout",
  status: "pending",
  created_at: "2026-04-04T10:30:00Z",
  rerun_of: "exec-f00dfeed",
};

export const SCHEDULE: Schedule = {
  schedule_id: "nightly-report",
  task: "report",
  cron: "0 3 * * *",
  timezone: "Europe/Berlin",
  data: { format: "pdf" },
  overlap: "skip",
  paused: false,
  next_fire_times: ["2026-04-05T01:00:00Z", "2026-04-06T01:00:00Z"],
  last_fired_at: "2026-04-04T01:00:00Z",
  source: "api",
  created_at: "2026-04-01T09:00:00Z",
};

export const SCHEDULES: ScheduleList = {
  schedules: [
    SCHEDULE,
    {
      schedule_id: "hourly-sync",
      task: "sync",
      cron: "0 * * * *",
      timezone: "UTC",
      data: {},
      overlap: "buffer_one",
      paused: true,
      next_fire_times: [],
    },
  ],
};
