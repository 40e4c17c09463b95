/** What both stores announce and store for a new execution; the SQL around it is each store's own. */
import { encodeError } from "./row-mapping.js";
import type { CreateResult, Finished, NewExecution, NewQueuedExecution, Notice } from "./store.js";

/**
 * The notices of one created execution: new queued work wakes workers; an eager start is already held by
 * its creator (nobody needs waking); one born finished is announced like any completion.
 */
export function creationNotices(input: NewExecution): Notice[] {
  if (input.finished) return [{ kind: "terminal", executionId: input.id, status: input.finished.status }];
  return input.claimFor ? [] : [{ kind: "runnable", task: input.task, at: input.now }];
}

/** The output and error columns of an execution born finished (NewExecution.finished). */
export function finishedColumns(finished: Finished): { output: string | null; error: string | null } {
  return {
    output: finished.status === "completed" ? finished.outputJson : null,
    error: finished.status === "failed" ? encodeError(finished.error) : null,
  };
}

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
