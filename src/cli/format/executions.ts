/** Human output of the execution routes: one execution, a page of them, a start, a wait's end. */
import type { Execution, ExecutionError, ExecutionSummary, ListPage, ScheduledExecution, WaitResult } from "../../client/index.js";
import { type Cell, renderFields, renderJsonBlock, renderTable } from "./layout.js";
import { printable, printableLines } from "./printable.js";
import { between, formatDuration, relativeTime, stamp } from "./time.js";
import { errorSummary, paintStatus, strong, type View } from "./view.js";

/** The status in its colour, then the event it waits for (the field's text is made printable before painting). */
function statusLine(execution: Execution, view: View): Cell {
  const paint = view.palette.status(execution.status);
  const status = printable(execution.status);
  const text = execution.waiting_for_event ? `${status} (for event "${execution.waiting_for_event}")` : status;
  return { text, paint: (safe) => paint(safe.slice(0, status.length)) + safe.slice(status.length) };
}

/** The error block of `get` and `wait`: its lines (a message may have several) indented, in red. */
function errorBlock(error: ExecutionError, view: View): string {
  return view.palette.red(printableLines(errorText(error), "  "));
}

/** The error, with the step it failed in before its code: `boom (step "s1") [code]`. */
function errorText(error: ExecutionError): string {
  const where = error.step ? ` (step "${error.step}")` : "";
  return errorSummary({ ...error, message: `${error.message}${where}` });
}

function durationOf(execution: Pick<Execution, "started_at" | "completed_at">): string | undefined {
  const ms = between(execution.started_at, execution.completed_at);
  return ms === null ? undefined : formatDuration(ms);
}

/** `zart get`: a header line, the fields, then output and error. */
export function formatExecution(execution: Execution, view: View): string {
  const fields = renderFields([
    ["task", execution.task],
    ["status", statusLine(execution, view)],
    ["current step", execution.current_step ?? undefined],
    ["steps completed", String(execution.steps_completed)],
    ["attempt", String(execution.attempt)],
    ["created", stamp(execution.created_at, view.now)],
    ["started", stamp(execution.started_at, view.now)],
    ["completed", stamp(execution.completed_at, view.now)],
    ["duration", durationOf(execution)],
    ["idempotency key", execution.idempotency_key ?? undefined],
    ["parent", execution.parent_execution_id],
    ["rerun of", execution.rerun_of],
    ["schedule", execution.schedule_id],
    ["priority", execution.priority === undefined ? undefined : String(execution.priority)],
    ["concurrency key", execution.concurrency_key],
    ["start at", execution.start_at === undefined ? undefined : stamp(execution.start_at, view.now)],
    ["buffered events", execution.buffered_events === undefined ? undefined : String(execution.buffered_events)],
  ]);
  const parts = [strong(execution.execution_id, view), fields];
  if (execution.output !== null) parts.push("output", renderJsonBlock(execution.output));
  if (execution.error) parts.push("error", errorBlock(execution.error, view));
  return parts.join("\n");
}

function listRow(item: ExecutionSummary, view: View) {
  const duration = between(item.started_at, item.completed_at);
  return [
    item.execution_id,
    item.task,
    { text: item.status, paint: view.palette.status(item.status) },
    relativeTime(item.created_at, view.now),
    duration === null ? "-" : formatDuration(duration),
  ];
}

/** `zart list`: a table, then which rows of how many these are and how to get the next page. */
export function formatExecutionList(page: ListPage, view: View): string {
  if (page.executions.length === 0) {
    return page.total === 0 ? "no executions" : `no executions at offset ${page.offset} (${page.total} in all)`;
  }
  const table = renderTable(
    ["EXECUTION ID", "TASK", "STATUS", "CREATED", "DURATION"],
    page.executions.map((item) => listRow(item, view)),
    view.palette,
  );
  const first = page.offset + 1;
  const last = page.offset + page.executions.length;
  const next = last < page.total ? `; next page: --offset ${last}` : "";
  return `${table}\n${view.palette.dim(`${first}-${last} of ${page.total}${next}`)}`;
}

/** `zart start`: the new (or, for a repeated idempotency key, existing) execution. */
export function formatScheduled(scheduled: ScheduledExecution, view: View): string {
  return `${strong(scheduled.execution_id, view)}  ${printable(scheduled.task)}  ${paintStatus(scheduled.status, view)}`;
}

/** `zart wait`: how it ended (with its output or error), or that it has not ended yet. */
export function formatWaitResult(result: WaitResult, view: View): string {
  const id = strong(result.execution_id, view);
  if (!result.done) return `${id} has not ended: still ${paintStatus(result.status, view)} (${printable(result.message)})`;
  const ended = result.completed_at ? ` ${printable(relativeTime(result.completed_at, view.now))}` : "";
  const lines = [`${id} ${paintStatus(result.status, view)}${ended}`];
  if (result.status === "completed") lines.push("output", renderJsonBlock(result.output));
  if (result.error) lines.push("error", errorBlock(result.error, view));
  return lines.join("\n");
}

/** The exit code of a wait: 0 completed, 1 failed or cancelled, 3 not ended at the timeout. */
export function waitExitCode(result: WaitResult): number {
  if (!result.done) return 3;
  return result.status === "completed" ? 0 : 1;
}
