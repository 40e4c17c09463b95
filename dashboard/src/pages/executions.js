// @ts-check
/**
 * Executions: counts by status across the top (/stats), one page of the list (server paging only, so it
 * stays fast however many executions are stored), filters in the URL, live refresh while visible.
 */

import { useEffect, useState } from "preact/hooks";
import { LoadError, Loading } from "../components/notice.js";
import { StatusBadge } from "../components/status-badge.js";
import { absolute, count, duration, elapsed, relative } from "../format.js";
import { useApi, useNow } from "../hooks.js";
import { html } from "../html.js";
import { executionUrl, navigate, withQuery } from "../router.js";

/** @typedef {import("../types.js").Execution} Execution */
/** @typedef {import("../types.js").ExecutionList} ExecutionList */
/** @typedef {import("../types.js").Stats} Stats */
/** @typedef {import("../types.js").Task} Task */

export const STATUSES = /** @type {const} */ (["pending", "running", "waiting", "completed", "failed", "cancelled"]);
const PAGE_SIZES = [20, 50, 100];
const REFRESH_MS = 3000;

/** @param {URLSearchParams} query */
function filtersOf(query) {
  const status = query.get("status") ?? "";
  const limit = Number(query.get("limit"));
  return {
    status: /** @type {readonly string[]} */ (STATUSES).includes(status) ? status : "",
    task: query.get("task") ?? "",
    limit: PAGE_SIZES.includes(limit) ? limit : 50,
    page: Math.max(1, Math.floor(Number(query.get("page")) || 1)),
  };
}

/** @typedef {ReturnType<typeof filtersOf>} Filters */

/** @param {Partial<Filters>} filters */
const listUrl = (filters) =>
  withQuery("/ui/executions", {
    status: filters.status,
    task: filters.task,
    limit: filters.limit === 50 ? null : filters.limit,
    page: filters.page === 1 ? null : filters.page,
  });

/**
 * The counts are the whole store's (/stats has no task filter), so a card lists that status across every task.
 * @param {{ stats: Stats | null, filters: Filters }} props
 */
function Counts({ stats, filters }) {
  const total = stats ? STATUSES.reduce((sum, s) => sum + (stats[s] ?? 0), 0) : null;
  const card = (/** @type {string} */ status, /** @type {string} */ label, /** @type {number | null} */ n) => html`
    <a
      class=${`count-card ${status ? `status-${status}` : "all"}`}
      href=${listUrl({ status, limit: filters.limit, page: 1 })}
      aria-current=${filters.status === status ? "true" : undefined}
      data-count=${status || "all"}
    >
      <span class="count-label">${label}</span>
      <span class="count-value">${n === null ? "…" : count(n)}</span>
    </a>
  `;
  return html`<nav class="counts" aria-label="Executions by status">
    ${card("", "All", total)} ${STATUSES.map((s) => card(s, s, stats ? (stats[s] ?? 0) : null))}
  </nav>`;
}

/** @param {{ filters: Filters, tasks: Task[] | null }} props */
function FilterBar({ filters, tasks }) {
  /** @param {Partial<Filters>} change */
  const go = (change) => navigate(listUrl({ ...filters, page: 1, ...change }), { replace: true });
  // What is typed in the task field is the field's own until committed (Enter, leaving it, a suggestion):
  // the page re-renders every second, and a controlled value would wipe the typing each time.
  const [draft, setDraft] = useState(filters.task);
  useEffect(() => setDraft(filters.task), [filters.task]);
  return html`
    <form
      class="filters"
      role="search"
      onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        go({ task: draft.trim() });
      }}
    >
      <div class="field inline">
        <label for="filter-status">Status</label>
        <select id="filter-status" value=${filters.status} onChange=${(/** @type {Event} */ e) => go({ status: /** @type {HTMLSelectElement} */ (e.currentTarget).value })}>
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
      <div class="field inline">
        <label for="filter-task">Task</label>
        <input
          id="filter-task"
          type="search"
          list="task-names"
          placeholder="any task"
          value=${draft}
          onInput=${(/** @type {Event} */ e) => setDraft(/** @type {HTMLInputElement} */ (e.currentTarget).value)}
          onChange=${(/** @type {Event} */ e) => go({ task: /** @type {HTMLInputElement} */ (e.currentTarget).value.trim() })}
        />
        <datalist id="task-names">${(tasks ?? []).map((t) => html`<option value=${t.name}></option>`)}</datalist>
      </div>
      <div class="field inline">
        <label for="filter-limit">Per page</label>
        <select id="filter-limit" value=${String(filters.limit)} onChange=${(/** @type {Event} */ e) => go({ limit: Number(/** @type {HTMLSelectElement} */ (e.currentTarget).value) })}>
          ${PAGE_SIZES.map((n) => html`<option value=${String(n)}>${n}</option>`)}
        </select>
      </div>
    </form>
  `;
}

/** @param {{ execution: Execution }} props */
function CurrentStep({ execution }) {
  if (execution.waiting_for_event) return html`<span class="muted">waiting for</span> <code>${execution.waiting_for_event}</code>`;
  if (execution.current_step) return html`<code>${execution.current_step}</code>`;
  if (execution.status === "failed" && execution.error?.step)
    return html`<span class="muted">failed at</span> <code>${execution.error.step}</code>`;
  return html`<span class="muted">—</span>`;
}

/** @param {{ executions: Execution[], now: number }} props */
function Table({ executions, now }) {
  return html`
    <div class="table-wrap">
      <table class="list executions-table">
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Task</th>
            <th scope="col">Status</th>
            <th scope="col">Current step / waiting for</th>
            <th scope="col">Created</th>
            <th scope="col" class="num">Duration</th>
          </tr>
        </thead>
        <tbody>
          ${executions.map(
            (e) => html`
              <tr key=${e.execution_id} data-id=${e.execution_id}>
                <td data-label="Execution"><a class="id" href=${executionUrl(e.execution_id)}>${e.execution_id}</a></td>
                <td data-label="Task">${e.task}</td>
                <td data-label="Status"><${StatusBadge} status=${e.status} /></td>
                <td data-label="Step"><${CurrentStep} execution=${e} /></td>
                <td data-label="Created" title=${absolute(e.created_at)}>${relative(e.created_at, now)}</td>
                <td data-label="Duration" class="num">${duration(elapsed(e.started_at, e.completed_at, now))}</td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </div>
  `;
}

/** @param {{ list: ExecutionList, filters: Filters }} props */
function Pager({ list, filters }) {
  const pages = Math.max(1, Math.ceil(list.total / filters.limit));
  // A page past the end (a link kept while rows were pruned, an edited URL) holds none: "0–0", and
  // Previous leads to the last page.
  const empty = list.executions.length === 0;
  const first = empty ? 0 : list.offset + 1;
  const last = empty ? 0 : list.offset + list.executions.length;
  const to = (/** @type {number} */ page) => listUrl({ ...filters, page });
  return html`
    <nav class="pager" aria-label="Pages">
      <span class="pager-info" data-testid="pager-info">${count(first)}–${count(last)} of ${count(list.total)}</span>
      <span class="pager-buttons">
        <a class="button" href=${to(1)} aria-disabled=${filters.page <= 1 ? "true" : undefined}>Newest</a>
        <a class="button" href=${to(Math.min(filters.page - 1, pages))} rel="prev" aria-disabled=${filters.page <= 1 ? "true" : undefined}>Previous</a>
        <span class="muted">page ${count(filters.page)} of ${count(pages)}</span>
        <a class="button" href=${to(filters.page + 1)} rel="next" aria-disabled=${filters.page >= pages ? "true" : undefined}>Next</a>
      </span>
    </nav>
  `;
}

/** @param {{ query: URLSearchParams }} props */
export function ExecutionsPage({ query }) {
  const filters = filtersOf(query);
  const now = useNow(1000);
  const stats = useApi(/** @type {string} */ ("/stats"), { pollMs: REFRESH_MS });
  const tasks = useApi("/tasks");
  const path = withQuery("/executions", {
    status: filters.status,
    task: filters.task,
    limit: filters.limit,
    offset: (filters.page - 1) * filters.limit,
  });
  const list = useApi(path, { pollMs: REFRESH_MS, keep: true });
  const data = /** @type {ExecutionList | null} */ (list.data);
  const taskList = /** @type {{ tasks: Task[] } | null} */ (tasks.data);

  return html`
    <section class="page">
      <div class="page-head">
        <h1>Executions</h1>
        <span class="live muted" title="Refreshes every few seconds while this tab is visible">
          <span class=${`live-dot ${list.loading ? "busy" : ""}`}></span>
          ${list.updatedAt ? `updated ${relative(new Date(list.updatedAt).toISOString(), now)}` : "live"}
        </span>
        <a class="button primary push-end" href="/ui/start">Start execution</a>
      </div>
      <${Counts} stats=${/** @type {Stats | null} */ (stats.data)} filters=${filters} />
      <${LoadError} error=${stats.error} what="Counts" />
      <${FilterBar} filters=${filters} tasks=${taskList?.tasks ?? null} />
      <${LoadError} error=${list.error} what="Executions" />
      ${
        data === null
          ? list.error
            ? null
            : html`<${Loading} />`
          : html`
            ${
              data.executions.length > 0
                ? html`<${Table} executions=${data.executions} now=${now} />`
                : data.total > 0
                  ? html`<p class="empty">No executions on this page.</p>`
                  : html`<p class="empty">
                    ${filters.status || filters.task ? "No executions match these filters." : "No executions yet."}
                    ${" "}<a href="/ui/start">Start one</a>.
                  </p>`
            }
            <${Pager} list=${data} filters=${filters} />
          `
      }
    </section>
  `;
}
