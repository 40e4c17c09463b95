// @ts-check
/** Workers seen within two lease periods: what each serves, how busy it is, when it last answered. */
import { ListTable } from "../components/list-table.js";
import { absolute, relative } from "../format.js";
import { useApi, useNow } from "../hooks.js";
import { html } from "../html.js";

/** @typedef {import("../types.js").Worker} Worker */

const COLUMNS = [
  { label: "Worker" },
  { label: "Host" },
  { label: "PID", num: true },
  { label: "Tasks" },
  { label: "Running / slots" },
  { label: "Started" },
  { label: "Last seen" },
];

/** @param {{ worker: Worker }} props */
function Load({ worker }) {
  const { running = 0, concurrency = 0 } = worker;
  const share = concurrency > 0 ? Math.min(1, running / concurrency) : 0;
  return html`<span class="load">
    <span class="meter" aria-hidden="true"><span class="meter-fill" style=${{ width: `${(share * 100).toFixed(1)}%` }}></span></span>
    ${running} / ${concurrency || "—"}
  </span>`;
}

/** @param {{ worker: Worker, now: number }} props */
function Row({ worker: w, now }) {
  return html`<tr data-worker=${w.worker_id}>
    <td data-label="Worker"><code>${w.worker_id}</code></td>
    <td data-label="Host">${w.host ?? "—"}</td>
    <td data-label="PID" class="num">${w.pid ?? "—"}</td>
    <td data-label="Tasks">${(w.tasks ?? []).join(", ") || html`<span class="muted">none</span>`}</td>
    <td data-label="Running"><${Load} worker=${w} /></td>
    <td data-label="Started" title=${absolute(w.started_at)}>${relative(w.started_at, now)}</td>
    <td data-label="Last seen" title=${absolute(w.last_seen_at)}>${relative(w.last_seen_at, now)}</td>
  </tr>`;
}

export function WorkersPage() {
  const now = useNow(1000);
  const resource = useApi("/workers", { pollMs: 3000 });
  const workers = /** @type {{ workers: Worker[] } | null} */ (resource.data)?.workers ?? null;
  return html`
    <section class="page">
      <div class="page-head"><h1>Workers</h1></div>
      <${ListTable}
        items=${workers}
        error=${resource.error}
        what="The worker list"
        empty="No worker has been seen recently."
        className="workers-table"
        columns=${COLUMNS}
        row=${(/** @type {Worker} */ w) => html`<${Row} key=${w.worker_id} worker=${w} now=${now} />`}
      />
    </section>
  `;
}
