/**
 * Execution records to wire JSON. Outputs are stored as JSON text, so the bodies that carry one are
 * assembled as text with the stored output spliced in: no parse and re-stringify per request.
 */
import { type ErrorInfo, type ExecutionRecord, isTerminal } from "../core/types.js";
import type { ListItem, ScheduleResponse } from "./schemas.js";

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

const str = JSON.stringify;

/** The contract's `error`: the stack a failure recorded is for the step timeline only. */
function errorJson(error: ErrorInfo | null): string {
  if (error === null) return "null";
  const { stack: _stack, ...shown } = error;
  return str({ ...shown, step: error.step ?? null });
}

/**
 * The optional fields of operations.md §1, each only when set (priority: when not 0), and
 * `buffered_events` (events stored for later waits and not taken yet) when there are any.
 */
function additiveJson(execution: ExecutionRecord): string {
  let json = "";
  if (execution.parentId !== null) json += `,"parent_execution_id":${str(execution.parentId)}`;
  if (execution.rerunOf !== null) json += `,"rerun_of":${str(execution.rerunOf)}`;
  if (execution.scheduleId !== null) json += `,"schedule_id":${str(execution.scheduleId)}`;
  if (execution.priority !== 0) json += `,"priority":${execution.priority}`;
  if (execution.concurrencyKey !== null) json += `,"concurrency_key":${str(execution.concurrencyKey)}`;
  if (execution.startAt !== null) json += `,"start_at":"${isoTime(execution.startAt)}"`;
  if (execution.bufferedEvents > 0) json += `,"buffered_events":${execution.bufferedEvents}`;
  return json;
}

/**
 * Bodies of terminal records, which never change: the engine serves a finished execution's record from
 * memory as the same object each time, so its body is built once per object. Only terminal records are
 * kept, and the WeakMap never keeps a record alive. Why: docs/decisions/016-terminal-response-bodies.md.
 */
const terminalBodies = new WeakMap<ExecutionRecord, string>();

/** `GET /executions/:id` body. */
export function executionJson(execution: ExecutionRecord): string {
  if (!isTerminal(execution.status)) return buildExecutionJson(execution);
  let body = terminalBodies.get(execution);
  if (body === undefined) {
    body = buildExecutionJson(execution);
    terminalBodies.set(execution, body);
  }
  return body;
}

function buildExecutionJson(execution: ExecutionRecord): string {
  return (
    `{"execution_id":${str(execution.id)},"task":${str(execution.task)},"status":"${execution.status}"` +
    `,"steps_completed":${execution.stepsCompleted},"current_step":${str(execution.currentStep)}` +
    `,"waiting_for_event":${str(execution.waitingForEvent)},"started_at":${str(isoOrNull(execution.startedAt))}` +
    `,"completed_at":${str(isoOrNull(execution.completedAt))},"output":${execution.outputJson ?? "null"}` +
    `,"error":${errorJson(execution.error)},"created_at":"${isoTime(execution.createdAt)}"` +
    `,"attempt":${execution.attempt},"idempotency_key":${str(execution.idempotencyKey)},"data":${execution.dataJson}` +
    `${additiveJson(execution)}}`
  );
}

/** `GET /executions/:id/wait` body once the execution is terminal. */
export function waitDoneJson(execution: ExecutionRecord): string {
  const error = execution.status === "failed" ? `,"error":${errorJson(execution.error)}` : "";
  return (
    `{"execution_id":${str(execution.id)},"status":"${execution.status}","output":${execution.outputJson ?? "null"}` +
    `,"completed_at":${str(isoOrNull(execution.completedAt))}${error}}`
  );
}

export function scheduleResponse(execution: ExecutionRecord): ScheduleResponse {
  return {
    execution_id: execution.id,
    task: execution.task,
    status: execution.status,
    created_at: isoTime(execution.createdAt),
  };
}

export function listItem(execution: ExecutionRecord): ListItem {
  return {
    execution_id: execution.id,
    task: execution.task,
    status: execution.status,
    started_at: isoOrNull(execution.startedAt),
    created_at: isoTime(execution.createdAt),
    completed_at: isoOrNull(execution.completedAt),
    current_step: execution.currentStep,
    waiting_for_event: execution.waitingForEvent,
  };
}
