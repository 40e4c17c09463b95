/** Human output of `zart tasks` and `zart workers`. */
import type { TaskList, WorkerList } from "../../client/index.js";
import { EXECUTION_STATUSES } from "../../client/index.js";
import { renderTable } from "./layout.js";
import { relativeTime } from "./time.js";
import type { View } from "./view.js";

export function formatTasks(list: TaskList, view: View): string {
  if (list.tasks.length === 0) return "no tasks: no worker serves one and no execution exists";
  const counts = EXECUTION_STATUSES.map((status) => ({ header: status.toUpperCase(), right: true as const }));
  return renderTable(
    ["TASK", { header: "WORKERS", right: true }, "LAST SEEN", ...counts, "INPUT SCHEMA"],
    list.tasks.map((task) => [
      task.name,
      String(task.workers),
      task.last_seen_at ? relativeTime(task.last_seen_at, view.now) : "-",
      ...EXECUTION_STATUSES.map((status) => String(task.counts[status] ?? 0)),
      task.input_schema ? "yes" : "no",
    ]),
    view.palette,
  );
}

export function formatWorkers(list: WorkerList, view: View): string {
  if (list.workers.length === 0) return "no live workers";
  return renderTable(
    ["WORKER ID", "HOST", { header: "PID", right: true }, { header: "RUNNING", right: true }, "STARTED", "LAST SEEN", "TASKS"],
    list.workers.map((worker) => [
      worker.worker_id,
      worker.host,
      String(worker.pid),
      `${worker.running}/${worker.concurrency}`,
      relativeTime(worker.started_at, view.now),
      relativeTime(worker.last_seen_at, view.now),
      worker.tasks.join(", "),
    ]),
    view.palette,
  );
}
