// @ts-check
/** Tasks: every task a live worker serves or that has executions, with workers, counts and input schema. */

import { JsonView } from "../components/json-view.js";
import { LoadError, Loading } from "../components/notice.js";
import { absolute, count, relative } from "../format.js";
import { useApi, useNow } from "../hooks.js";
import { html } from "../html.js";
import { withQuery } from "../router.js";
import { STATUSES } from "./executions.js";

/** @typedef {import("../types.js").Task} Task */

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

export function TasksPage() {
  const now = useNow(5000);
  const resource = useApi("/tasks", { pollMs: 5000 });
  const tasks = /** @type {{ tasks: Task[] } | null} */ (resource.data)?.tasks ?? null;
  return html`
    <section class="page">
      <div class="page-head"><h1>Tasks</h1></div>
      <${LoadError} error=${resource.error} what="The task list" />
      ${
        tasks === null
          ? resource.error
            ? null
            : html`<${Loading} />`
          : tasks.length === 0
            ? html`<p class="empty">No task is served by a live worker, and no execution exists yet.</p>`
            : html`<div class="table-wrap">
              <table class="list tasks-table">
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col" class="num">Workers</th>
                    <th scope="col">Last seen</th>
                    <th scope="col">Executions</th>
                    <th scope="col">Input schema</th>
                    <th scope="col"><span class="sr-only">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${tasks.map(
                    (t) => html`<tr key=${t.name} data-task=${t.name}>
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
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
  `;
}
