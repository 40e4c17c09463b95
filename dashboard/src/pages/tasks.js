// @ts-check
/** Tasks: every task a live worker serves or that has executions, with workers, counts and input schema. */
import { JsonView } from "../components/json-view.js";
import { ListTable } from "../components/list-table.js";
import { absolute, count, relative } from "../format.js";
import { useApi, useNow } from "../hooks.js";
import { html } from "../html.js";
import { withQuery } from "../router.js";
import { STATUSES } from "./executions.js";

/** @typedef {import("../types.js").Task} Task */

const COLUMNS = [
  { label: "Task" },
  { label: "Workers", num: true },
  { label: "Last seen" },
  { label: "Executions" },
  { label: "Input schema" },
  { label: "" },
];

/** @param {{ task: Task }} props */
function Counts({ task }) {
  const counts = task.counts ?? {};
  const shown = STATUSES.filter((s) => (counts[s] ?? 0) > 0);
  if (shown.length === 0) return html`<span class="muted">none</span>`;
  return html`<span class="mini-counts">
    ${shown.map(
      (s) =>
        html`<a class=${`mini-count status-${s}`} href=${withQuery("/ui/executions", { task: task.name, status: s })} title=${`${s} executions of ${task.name}`}
          >${s} ${count(counts[s] ?? 0)}</a
        >`,
    )}
  </span>`;
}

/** @param {{ task: Task, now: number }} props */
function Row({ task: t, now }) {
  return html`<tr data-task=${t.name}>
    <td data-label="Task"><a href=${withQuery("/ui/executions", { task: t.name })}><strong>${t.name}</strong></a></td>
    <td data-label="Workers" class="num">${t.workers ?? "—"}</td>
    <td data-label="Last seen" title=${absolute(t.last_seen_at)}>${relative(t.last_seen_at, now)}</td>
    <td data-label="Executions"><${Counts} task=${t} /></td>
    <td data-label="Input schema">
      ${
        t.input_schema
          ? html`<details><summary>schema</summary><${JsonView} value=${t.input_schema} label=${`Input schema of ${t.name}`} /></details>`
          : html`<span class="muted">none</span>`
      }
    </td>
    <td><a class="button" href=${withQuery("/ui/start", { task: t.name })}>Start</a></td>
  </tr>`;
}

export function TasksPage() {
  const now = useNow(5000);
  const resource = useApi("/tasks", { pollMs: 5000 });
  const tasks = /** @type {{ tasks: Task[] } | null} */ (resource.data)?.tasks ?? null;
  return html`
    <section class="page">
      <div class="page-head"><h1>Tasks</h1></div>
      <${ListTable}
        items=${tasks}
        error=${resource.error}
        what="The task list"
        empty="No task is served by a live worker, and no execution exists yet."
        className="tasks-table"
        columns=${COLUMNS}
        row=${(/** @type {Task} */ t) => html`<${Row} key=${t.name} task=${t} now=${now} />`}
      />
    </section>
  `;
}
