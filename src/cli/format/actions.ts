/** Human output of the commands that change something: cancel, retry, rerun, send, prune, and stats. */
import type { CancelResult, EventDelivery, Execution, RerunResult, Stats } from "../../client/index.js";
import { EXECUTION_STATUSES } from "../../client/index.js";
import type { PruneResult } from "../../client/zart-client.js";
import { renderTable } from "./layout.js";
import { printable } from "./printable.js";
import { paintStatus, strong, type View } from "./view.js";

export function formatCancel(result: CancelResult, view: View): string {
  return `${strong(result.execution_id, view)} ${paintStatus(result.status, view)}`;
}

export function formatRetry(execution: Execution, view: View): string {
  return `${strong(execution.execution_id, view)} retried: ${paintStatus(execution.status, view)} (attempt ${execution.attempt})`;
}

/** Like `zart start`'s line, plus what it reruns and from where. */
export function formatRerun(result: RerunResult, view: View, request: { from_step?: string }): string {
  const from = request.from_step ? `from step "${request.from_step}"` : "from the start";
  const of = printable(result.rerun_of ? `rerun of ${result.rerun_of}, ${from}` : `rerun ${from}`);
  return `${strong(result.execution_id, view)}  ${printable(result.task)}  ${paintStatus(result.status, view)}  (${of})`;
}

export function formatEventDelivery(delivery: EventDelivery, view: View): string {
  const id = strong(delivery.execution_id, view);
  const event = printable(delivery.event_name);
  if (delivery.status === "buffered") return `event "${event}" buffered for ${id}: its next wait for "${event}" takes it`;
  return `event "${event}" delivered to ${id}`;
}

export function formatPrune(result: PruneResult): string {
  return `pruned ${result.pruned} execution${result.pruned === 1 ? "" : "s"}`;
}

/** `zart stats`: one row per status, then the total. */
export function formatStats(stats: Stats, view: View): string {
  const rows = EXECUTION_STATUSES.map((status) => [{ text: status, paint: view.palette.status(status) }, String(stats[status] ?? 0)]);
  const total = EXECUTION_STATUSES.reduce((sum, status) => sum + (stats[status] ?? 0), 0);
  return renderTable(
    ["STATUS", { header: "COUNT", right: true }],
    [...rows, [{ text: "total", paint: view.palette.bold }, String(total)]],
    view.palette,
  );
}
