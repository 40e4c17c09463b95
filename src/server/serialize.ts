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

function errorJson(error: ErrorInfo | null): string {
  if (error === null) return "null";
  return str({ ...error, step: error.step ?? null });
}

/**
 * Bodies of terminal records, which never change: the engine serves a finished execution's record from
 * memory as the same object each time, so its body is built once. (GET of a finished execution under
 * autocannon on SQLite: building it - three ISO dates - was ~9 µs of a ~130 µs request.)
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
    `,"attempt":${execution.attempt},"idempotency_key":${str(execution.idempotencyKey)},"data":${execution.dataJson}}`
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
