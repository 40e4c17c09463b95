/** Human output of `zart steps`: the timeline as a table, then every attempt that failed. */
import type { ExecutionSteps, StepAttempt, StepError, StepRecord } from "../../client/index.js";
import { renderTable } from "./layout.js";
import { printable } from "./printable.js";
import { formatDuration, relativeTime } from "./time.js";
import { errorSummary, strong, type View } from "./view.js";

/** What the row says beyond the common columns, by kind. */
function detail(step: StepRecord, view: View): string {
  const parts: string[] = [];
  if (step.kind === "sleep" && step.wake_at) {
    parts.push(`${step.status === "completed" ? "woke" : "wakes"} ${relativeTime(step.wake_at, view.now)}`);
  }
  if (step.kind === "event" && step.status === "waiting" && step.timeout_at) {
    parts.push(`times out ${relativeTime(step.timeout_at, view.now)}`);
  }
  if (step.status === "waiting" && step.retry_at) parts.push(`next attempt ${relativeTime(step.retry_at, view.now)}`);
  if (step.kind === "child" && step.child_execution_id) parts.push(`child ${step.child_execution_id}`);
  if (step.closed) parts.push("closed: the execution ended while it waited");
  if (step.discarded) parts.push("set aside by a retry: runs again");
  if (step.status === "failed" && step.error) parts.push(errorSummary(step.error));
  if (step.copied_from) parts.push(`copied from ${step.copied_from}`);
  return parts.join("; ");
}

function durationOf(step: StepRecord): string {
  if (step.duration_ms !== null && step.duration_ms !== undefined) return formatDuration(step.duration_ms);
  return "-";
}

function row(step: StepRecord, index: number, view: View) {
  return [
    String(index + 1),
    step.name,
    step.kind,
    { text: step.status, paint: view.palette.status(step.status) },
    step.started_at ? relativeTime(step.started_at, view.now) : "-",
    durationOf(step),
    step.attempts.length > 0 ? String(step.attempts.length) : "-",
    detail(step, view),
  ];
}

function failedAttempts(steps: readonly StepRecord[], view: View): string[] {
  return steps.flatMap((step) =>
    step.attempts.flatMap((attempt) => (attempt.error ? [attemptLine(step, attempt, attempt.error, view)] : [])),
  );
}

function attemptLine(step: StepRecord, attempt: StepAttempt, error: StepError, view: View): string {
  const when = relativeTime(attempt.started_at, view.now);
  const what = printable(`${step.name} attempt ${attempt.attempt} (execution attempt ${attempt.execution_attempt}, ${when})`);
  return `  ${what}: ${view.palette.red(printable(errorSummary(error)))}`;
}

export function formatSteps(timeline: ExecutionSteps, view: View): string {
  if (timeline.steps.length === 0) return `${strong(timeline.execution_id, view)}: no steps reached yet`;
  const table = renderTable(
    [
      { header: "#", right: true },
      "NAME",
      "KIND",
      "STATUS",
      "STARTED",
      { header: "DURATION", right: true },
      { header: "ATTEMPTS", right: true },
      "DETAIL",
    ],
    timeline.steps.map((step, i) => row(step, i, view)),
    view.palette,
  );
  const failures = failedAttempts(timeline.steps, view);
  const parts = [strong(timeline.execution_id, view), table];
  if (failures.length > 0) parts.push("failed attempts", ...failures);
  return parts.join("\n");
}
