// @ts-check
/** Schedules: cron, time zone, overlap policy, next fire times, pause/resume, and delete (confirmed first). */
import { useState } from "preact/hooks";
import { ApiError, api, isUnavailable, seg } from "../api.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { ListTable } from "../components/list-table.js";
import { messageOf } from "../components/notice.js";
import { absolute, relative } from "../format.js";
import { useApi, useNow } from "../hooks.js";
import { html } from "../html.js";
import { withQuery } from "../router.js";

/** @typedef {import("../types.js").Schedule} Schedule */
/** @typedef {{ kind: "ok" | "error", text: string } | null} Message */

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

/**
 * What the confirmation adds to "Delete schedule …?": a schedule declared in code comes back.
 * @param {Schedule} s
 */
function deleteDetail(s) {
  const kept = "Executions it already started are kept.";
  return s.source === "code"
    ? `It is declared in code (defineSchedule): a process that still declares it creates it again when it starts. Remove the declaration to delete it for good, or pause it instead. ${kept}`
    : `This cannot be undone. ${kept}`;
}

/**
 * Why a delete failed, in words an operator can act on.
 * @param {unknown} e
 * @param {string} id
 */
function deleteFailure(e, id) {
  if (isUnavailable(e)) return "Deleting schedules is not available on this server.";
  const failed = `Could not delete schedule ${id}`;
  const said = `The server said: ${messageOf(e)}`;
  if (!(e instanceof ApiError)) return `${failed}: ${messageOf(e)}`;
  if (e.status === 404) return `${failed}: it no longer exists (someone else may have deleted it). ${said}`;
  if (e.status === 401) return `${failed}: the server did not accept the API token; enter one and try again. ${said}`;
  return `${failed}: ${messageOf(e)}`;
}

/** @param {{ schedule: Schedule, now: number, onChanged: () => void, onMessage: (m: Message) => void }} props */
function Row({ schedule: s, now, onChanged, onMessage }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const times = nextTimes(s);
  const remove = async () => {
    setBusy(true);
    setError("");
    onMessage(null);
    try {
      await api(`/schedules/${seg(s.schedule_id)}`, { method: "DELETE" });
      // The row stays busy until the reload below drops it.
      const back = s.source === "code" ? " A process that still declares it in code creates it again when it starts." : "";
      onMessage({ kind: "ok", text: `Schedule ${s.schedule_id} deleted.${back}` });
    } catch (e) {
      setBusy(false);
      onMessage({ kind: "error", text: deleteFailure(e, s.schedule_id) });
    } finally {
      onChanged();
    }
  };
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
    <td data-label="Schedule"><span><strong>${s.schedule_id}</strong>${s.source === "code" ? html` <span class="muted small">in code</span>` : null}</span></td>
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
      <div class="actions">
        <button type="button" disabled=${busy} onClick=${toggle}>${s.paused ? "Resume" : "Pause"}</button>
        <${ConfirmButton}
          label="Delete"
          confirmLabel="Yes, delete it"
          question=${`Delete schedule ${s.schedule_id}?`}
          detail=${deleteDetail(s)}
          busy=${busy}
          onConfirm=${remove}
        />
      </div>
      ${error ? html`<p class="notice error small" role="alert">${error}</p>` : null}
    </td>
  </tr>`;
}

export function SchedulesPage() {
  const now = useNow(1000);
  const resource = useApi("/schedules", { pollMs: 5000 });
  const schedules = resource.data === null ? null : schedulesOf(resource.data);
  const [message, setMessage] = useState(/** @type {Message} */ (null));
  return html`
    <section class="page">
      <div class="page-head"><h1>Schedules</h1></div>
      ${
        message
          ? html`<p class=${`notice ${message.kind}`} role=${message.kind === "error" ? "alert" : "status"}>${message.text}</p>`
          : null
      }
      <${ListTable}
        items=${schedules}
        error=${resource.error}
        what="Schedules"
        empty=${html`No schedules. Define one in code with <code>defineSchedule</code> or with <code>POST /api/v1/schedules</code>.`}
        className="schedules-table"
        columns=${COLUMNS}
        row=${(/** @type {Schedule} */ s) => html`<${Row} key=${s.schedule_id} schedule=${s} now=${now} onChanged=${resource.reload} onMessage=${setMessage} />`}
      />
    </section>
  `;
}
