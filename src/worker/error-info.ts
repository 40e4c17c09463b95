import { toError, WorkflowDefinitionError } from "../core/errors.js";
import type { ErrorInfo } from "../core/types.js";

/**
 * What is recorded of an error thrown by the workflow's code: message, name, stable code when it has one,
 * and the stack (shown in the step timeline; never in the execution's `error` over the contract's API).
 * Read from `toError`'s form, whose message and name are text whatever the workflow set them to.
 */
export function errorInfo(thrown: Error, step: string | null): ErrorInfo {
  const error = toError(thrown);
  const code = (error as { code?: unknown }).code;
  let stack: unknown;
  try {
    stack = error.stack;
  } catch {
    stack = undefined; // a getter of the workflow's
  }
  return {
    message: error.message,
    step: step ?? definitionErrorStep(error),
    name: error.name,
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof stack === "string" ? { stack: stack.slice(0, 16_384) } : {}),
  };
}

/**
 * The step whose own record a definition error failed (a result no store can hold: step-runner.ts names
 * it), so the execution's error names that step as any step failure does, and a retry of the execution
 * (`POST /executions/:id/retry`, after a fix is deployed) sets that record aside and runs the step again.
 */
function definitionErrorStep(error: Error): string | null {
  const step = error instanceof WorkflowDefinitionError ? (error as { step?: unknown }).step : undefined;
  return typeof step === "string" ? step : null;
}
