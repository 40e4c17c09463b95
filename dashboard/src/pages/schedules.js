// @ts-check
/** Schedules: cron, time zone, overlap policy, next fire times, and pause/resume. */
import { useState } from "preact/hooks";
import { api, isUnavailable, seg } from "../api.js";
import { ListTable } from "../components/list-table.js";
import { messageOf } from "../components/notice.js";
import { absolute, relative } from "../format.js";
import { useApi, useNow } from "../hooks.js";
import { html } from "../html.js";
import { withQuery } from "../router.js";

/** @typedef {import("../types.js").Schedule} Schedule */

const COLUMNS = [
  { label: "Schedule" },
  { label: "Task" },
  { label: "Cron" },
  { label: "Overlap" },
  { label: "State" },
  { label: "Next fire times" },
  { label: "" },
];

/**
 * The next fire times, whichever field the server names them with.
 * @param {Schedule} s
 * @returns {string[]}
 */
function nextTimes(s) {
  if (Array.isArray(s.next_fire_times)) return s.next_fire_times;
  if (Array.isArray(s.next_runs)) return s.next_runs;
  return s.next_fire_at ? [s.next_fire_at] : [];
}

/**
 * @param {unknown} body
 * @returns {Schedule[]}
 */
function schedulesOf(body) {
  if (Array.isArray(body)) return body;
  const list = typeof body === "object" && body !== null ? /** @type {{ schedules?: unknown }} */ (body).schedules : null;
  return Array.isArray(list) ? list : [];
}

/** @param {{ schedule: Schedule, now: number, onChanged: () => void }} props */
function Row({ schedule: s, now, onChanged }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const times = nextTimes(s);
  const toggle = async () => {
    setBusy(true);
    setError("");
    try {
      await api(`/schedules/${seg(s.schedule_id)}/${s.paused ? "resume" : "pause"}`, { method: "POST" });
    } catch (e) {
      setError(isUnavailable(e) ? "Not available on this server." : messageOf(e));
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  return html`<tr data-schedule=${s.schedule_id}>
    <td data-label="Schedule"><strong>${s.schedule_id}</strong></td>
    <td data-label="Task"><a href=${withQuery("/ui/executions", { task: s.task })}>${s.task}</a></td>
    <td data-label="Cron"><code>${s.cron}</code> <span class="muted">${s.timezone ?? "UTC"}</span></td>
    <td data-label="Overlap">${s.overlap ?? "—"}</td>
    <td data-label="State"><span class=${`badge ${s.paused ? "status-cancelled" : "status-completed"}`}>${s.paused ? "paused" : "active"}</span></td>
    <td data-label="Next">
      ${
        s.paused
          ? html`<span class="muted">paused</span>`
          : times.length
            ? html`<ul class="times">${times.slice(0, 3).map((t) => html`<li title=${absolute(t)}>${absolute(t)} <span class="muted">(${relative(t, now)})</span></li>`)}</ul>`
            : html`<span class="muted">—</span>`
      }
    </td>
    <td>
      <button type="button" disabled=${busy} onClick=${toggle}>${s.paused ? "Resume" : "Pause"}</button>
      ${error ? html`<p class="notice error small" role="alert">${error}</p>` : null}
    </td>
  </tr>`;
}

export function SchedulesPage() {
  const now = useNow(1000);
  const resource = useApi("/schedules", { pollMs: 5000 });
  const schedules = resource.data === null ? null : schedulesOf(resource.data);
  return html`
    <section class="page">
      <div class="page-head"><h1>Schedules</h1></div>
      <${ListTable}
        items=${schedules}
        error=${resource.error}
        what="Schedules"
        empty=${html`No schedules. Define one in code with <code>defineSchedule</code> or with <code>POST /api/v1/schedules</code>.`}
        className="schedules-table"
        columns=${COLUMNS}
        row=${(/** @type {Schedule} */ s) => html`<${Row} key=${s.schedule_id} schedule=${s} now=${now} onChanged=${resource.reload} />`}
      />
    </section>
  `;
}
