// @ts-check
/**
 * One execution: header (status, task, times, attempt, links to parent, children and the execution it
 * reruns), actions, the step timeline, and input, output and error as formatted JSON. Refreshes every
 * two seconds until the execution has ended.
 */

import { ApiError, auth, isUnavailable, seg } from "../api.js";
import { JsonView } from "../components/json-view.js";
import { LoadError, Loading } from "../components/notice.js";
import { StatusBadge } from "../components/status-badge.js";
import { absolute, duration, elapsed, relative } from "../format.js";
import { useApi, useNow, useVisibleInterval } from "../hooks.js";
import { html } from "../html.js";
import { executionUrl, withQuery } from "../router.js";
import { ExecutionActions } from "./execution-actions.js";
import { ErrorDetail, Timeline } from "./timeline.js";

/** @typedef {import("../types.js").Execution} Execution */
/** @typedef {import("../types.js").Step} Step */
/** @typedef {import("../types.js").StepList} StepList */

const REFRESH_MS = 2000;
const TERMINAL = ["completed", "failed", "cancelled"];

/** @param {{ id: string | null | undefined }} props */
const ExecLink = ({ id }) => (id ? html`<a class="id" href=${executionUrl(id)}>${id}</a>` : null);

/** @param {{ execution: Execution, children: string[], now: number }} props */
function Header({ execution: e, children, now }) {
  /** @type {Array<[string, unknown]>} */
  const rows = [
    ["Task", html`<a href=${withQuery("/ui/executions", { task: e.task })}>${e.task}</a>`],
    [
      "Created",
      html`<span title=${absolute(e.created_at)}>${absolute(e.created_at)}</span> <span class="muted">(${relative(e.created_at, now)})</span>`,
    ],
    ["Started", e.started_at ? absolute(e.started_at) : html`<span class="muted">not yet</span>`],
    ["Ended", e.completed_at ? absolute(e.completed_at) : html`<span class="muted">—</span>`],
    ["Duration", duration(elapsed(e.started_at, e.completed_at, now))],
    ["Attempt", e.attempt ?? "—"],
    ["Steps completed", e.steps_completed ?? "—"],
  ];
  if (e.current_step) rows.push(["Current step", html`<code>${e.current_step}</code>`]);
  if (e.waiting_for_event) rows.push(["Waiting for event", html`<code>${e.waiting_for_event}</code>`]);
  if (e.idempotency_key) rows.push(["Idempotency key", html`<code>${e.idempotency_key}</code>`]);
  if (e.parent_execution_id) rows.push(["Parent", html`<${ExecLink} id=${e.parent_execution_id} />`]);
  if (e.rerun_of) rows.push(["Rerun of", html`<${ExecLink} id=${e.rerun_of} />`]);
  if (children.length) rows.push(["Children", html`<span class="id-list">${children.map((c) => html`<${ExecLink} id=${c} />`)}</span>`]);
  if (e.schedule_id) rows.push(["Schedule", html`<a href="/ui/schedules">${e.schedule_id}</a>`]);
  if (e.priority !== undefined && e.priority !== null) rows.push(["Priority", e.priority]);
  if (e.concurrency_key) rows.push(["Concurrency key", html`<code>${e.concurrency_key}</code>`]);
  if (e.start_at) rows.push(["Starts at", absolute(e.start_at)]);
  if (e.buffered_events) rows.push(["Buffered events", e.buffered_events]);
  return html`
    <dl class="facts-grid">
      ${rows.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}
    </dl>
  `;
}

/** @param {{ execution: Execution }} props */
function Values({ execution }) {
  return html`
    <div class="values">
      <section class="panel">
        <h2>Input</h2>
        <${JsonView} value=${execution.data} label="Input" />
      </section>
      <section class="panel">
        <h2>Output</h2>
        ${execution.status === "completed" ? html`<${JsonView} value=${execution.output} label="Output" />` : html`<p class="muted">None yet.</p>`}
      </section>
      ${
        execution.error
          ? html`<section class="panel error-panel">
            <h2>Error</h2>
            <${ErrorDetail} error=${execution.error} />
            <${JsonView} value=${execution.error} label="Error" />
          </section>`
          : null
      }
    </div>
  `;
}

/** @param {{ id: string }} props */
export function ExecutionPage({ id }) {
  const now = useNow(1000);
  const exec = useApi(`/executions/${seg(id)}`);
  const execution = /** @type {Execution | null} */ (exec.data);
  const live = execution !== null && !TERMINAL.includes(execution.status);
  const steps = useApi(`/executions/${seg(id)}/steps`);
  const stepList = /** @type {StepList | null} */ (steps.data);
  // One timer for both: the status and the timeline change together.
  useVisibleInterval(
    () => {
      if (auth.state.prompt) return;
      exec.reload();
      if (!isUnavailable(steps.error)) steps.reload();
    },
    live ? REFRESH_MS : 0,
  );

  if (exec.error instanceof ApiError && exec.error.code === "execution_not_found") {
    return html`<section class="page"><h1>Execution not found</h1><p>No execution has the id <code>${id}</code>.</p><p><a href="/ui/executions">All executions</a></p></section>`;
  }
  if (!execution)
    return html`<section class="page"><${LoadError} error=${exec.error} what="The execution" />${exec.error ? null : html`<${Loading} />`}</section>`;

  const children = (stepList?.steps ?? []).map((s) => s.child_execution_id).filter((c) => typeof c === "string");
  const reload = () => {
    exec.reload();
    steps.reload();
  };
  return html`
    <section class="page">
      <div class="page-head">
        <h1 class="exec-title"><span class="muted">Execution</span> <span class="id">${execution.execution_id}</span></h1>
        <${StatusBadge} status=${execution.status} />
        ${live ? html`<span class="live muted"><span class="live-dot"></span> live</span>` : null}
      </div>
      <${Header} execution=${execution} children=${children} now=${now} />
      <${ExecutionActions} execution=${execution} steps=${stepList?.steps ?? null} onChanged=${reload} />
      <section class="panel">
        <h2>Timeline</h2>
        <${LoadError} error=${steps.error} what="The step timeline" />
        ${stepList ? html`<${Timeline} execution=${execution} steps=${stepList.steps} now=${now} />` : steps.error ? null : html`<${Loading} />`}
      </section>
      <${Values} execution=${execution} />
    </section>
  `;
}
