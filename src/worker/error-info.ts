import type { ErrorInfo } from "../core/types.js";

/**
 * What is recorded of an error thrown by the workflow's code: message, name, stable code when it has one,
 * and the stack (shown in the step timeline; never in the execution's `error` over the contract's API).
 */
export function errorInfo(error: Error, step: string | null): ErrorInfo {
  const code = (error as { code?: unknown }).code;
  return {
    message: error.message,
    step,
    name: error.name,
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof error.stack === "string" ? { stack: error.stack.slice(0, 16_384) } : {}),
  };
}
