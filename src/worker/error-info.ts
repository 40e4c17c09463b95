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
    // A definition error a step met names that step, so a retry of the execution (after a fix is deployed)
    // sets that step's record aside and runs it again.
    step: step ?? (error instanceof WorkflowDefinitionError ? error.step : null),
    name: error.name,
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof stack === "string" ? { stack: stack.slice(0, 16_384) } : {}),
  };
}
