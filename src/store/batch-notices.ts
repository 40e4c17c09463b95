import type { CreateResult, NewQueuedExecution, Notice } from "./store.js";

/** The notices of a batch insert: one runnable notice per task (its earliest `now`), not one per row. */
export function batchNotices(inputs: readonly NewQueuedExecution[], results: readonly CreateResult[]): Notice[] {
  const earliest = new Map<string, number>();
  results.forEach((result, i) => {
    const input = inputs[i];
    if (!result.created || !input) return;
    earliest.set(input.task, Math.min(earliest.get(input.task) ?? input.now, input.now));
  });
  return [...earliest].map(([task, at]) => ({ kind: "runnable", task, at }));
}
