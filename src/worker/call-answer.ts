/** What a `ctx` call's answer can be, and how it becomes the promise the workflow awaits. */
import type { OpenWait } from "./run-activity.js";

/** A call's answer: a value now, or a wait to open. */
export type Answer<T> = T | { open: OpenWait };

export const isOpen = <T>(answer: Answer<T>): answer is { open: OpenWait } =>
  typeof answer === "object" && answer !== null && "open" in answer && (answer as { open: unknown }).open !== undefined;

/** `settle`'s value or thrown error as a promise: a `ctx` call never throws synchronously. */
export function promised<T>(settle: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(settle());
  } catch (error) {
    return Promise.reject(error);
  }
}
