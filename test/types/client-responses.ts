/** The `zart/client` response types carry every field the HTTP contract documents (docs/http-api.md, "Extra fields"). */
import type { Execution, ExecutionSummary } from "zart/client";

function same<A, B>(_proof: [A] extends [B] ? ([B] extends [A] ? true : false) : false): void {}

export function executionFields(execution: Execution): void {
  // The input it was scheduled with.
  same<Execution["data"], unknown>(true);
  void execution.data;
}

export function listItemFields(item: ExecutionSummary): void {
  same<ExecutionSummary["current_step"], string | null>(true);
  same<ExecutionSummary["waiting_for_event"], string | null>(true);
  void item.current_step;
  void item.waiting_for_event;
}
