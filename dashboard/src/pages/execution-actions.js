// @ts-check
/**
 * What an operator can do to one execution: cancel, retry (in place), rerun (a new execution, from the
 * start or from a chosen step) and, while it waits for one, send the event. Each action says plainly
 * when this server lacks its route.
 */
import { useState } from "preact/hooks";
import { api, isUnavailable, seg } from "../api.js";
import { ConfirmButton } from "../components/confirm-button.js";
import { messageOf } from "../components/notice.js";
import { PayloadEditor } from "../components/payload-editor.js";
import { useSubmit } from "../hooks.js";
import { html } from "../html.js";
import { executionUrl, navigate } from "../router.js";

/** @typedef {import("../types.js").Execution} Execution */
/** @typedef {import("../types.js").Step} Step */
/** @typedef {import("../components/payload-editor.js").Parsed} Parsed */
/** @typedef {{ kind: "ok" | "error", text: string } | null} Message */

const ACTIVE = ["pending", "running", "waiting"];
const RECOVERABLE = ["failed", "cancelled"];

/**
 * @param {unknown} error
 * @param {string} action
 */
function failure(error, action) {
  return isUnavailable(error) ? `${action} is not available on this server.` : `${action} failed: ${messageOf(error)}`;
}

/** @param {{ execution: Execution, schema: import("../types.js").JsonSchema | null, onDone: (m: Message) => void }} props */
function EventForm({ execution, schema, onDone }) {
  const name = execution.waiting_for_event ?? "";
  const [parsed, setParsed] = useState(/** @type {Parsed | null} */ (null));
  const { busy, tried, error, submit } = useSubmit();

  /** @param {Event} event */
  const onSubmit = (event) => {
    event.preventDefault();
    void submit(
      parsed?.ok === true,
      async () => {
        await api(`/events/${seg(execution.execution_id)}/${seg(name)}`, { body: parsed?.ok ? parsed.value : null });
        onDone({ kind: "ok", text: `Event "${name}" delivered.` });
      },
      (e) => failure(e, "Sending the event"),
    );
  };

  return html`
    <form class="panel action-panel" aria-label="Send event" onSubmit=${onSubmit}>
      <h3>Send event <code>${name}</code></h3>
      <p class="muted">${schema ? "Checked against the event's schema before it is sent." : "The server checks the payload against the event's schema, if it has one."}</p>
      <${PayloadEditor} schema=${schema} root="payload" label="Payload" idPrefix="event" showErrors=${tried} onChange=${setParsed} initial=${schema ? undefined : {}} />
      ${error ? html`<p class="notice error" role="alert">${error}</p>` : null}
      <div class="buttons"><button type="submit" class="primary" disabled=${busy}>Deliver event</button></div>
    </form>
  `;
}

/** @param {{ execution: Execution, steps: Step[] | null, onDone: (m: Message) => void }} props */
function RerunForm({ execution, steps, onDone }) {
  const names = [...new Set((steps ?? []).map((s) => s.name))];
  const [fromStep, setFromStep] = useState("");
  const [newInput, setNewInput] = useState(false);
  const [parsed, setParsed] = useState(/** @type {Parsed | null} */ (null));
  const { busy, tried, error, submit } = useSubmit();

  /** @param {Event} event */
  const onSubmit = (event) => {
    event.preventDefault();
    /** @type {Record<string, unknown>} */
    const body = {};
    if (fromStep) body.from_step = fromStep;
    if (newInput && parsed?.ok) body.data = parsed.value;
    void submit(
      !newInput || parsed?.ok === true,
      async () => {
        const created = /** @type {{ execution_id: string }} */ (await api(`/executions/${seg(execution.execution_id)}/rerun`, { body }));
        onDone({ kind: "ok", text: `Rerun started as ${created.execution_id}.` });
        navigate(executionUrl(created.execution_id));
      },
      (e) => failure(e, "Rerun"),
    );
  };

  return html`
    <form class="panel action-panel" aria-label="Rerun" onSubmit=${onSubmit}>
      <h3>Rerun as a new execution</h3>
      <div class="field">
        <label for="rerun-from">Start from</label>
        ${
          steps
            ? html`<select id="rerun-from" value=${fromStep} onChange=${(/** @type {Event} */ e) => setFromStep(/** @type {HTMLSelectElement} */ (e.currentTarget).value)}>
              <option value="">the beginning</option>
              ${names.map((n) => html`<option value=${n}>step "${n}" (replay what came before it)</option>`)}
            </select>`
            : html`<input
              id="rerun-from"
              type="text"
              placeholder="the beginning, or a step name"
              value=${fromStep}
              onInput=${(/** @type {Event} */ e) => setFromStep(/** @type {HTMLInputElement} */ (e.currentTarget).value.trim())}
            />`
        }
      </div>
      <label class="field-check">
        <input type="checkbox" checked=${newInput} onChange=${(/** @type {Event} */ e) => setNewInput(/** @type {HTMLInputElement} */ (e.currentTarget).checked)} />
        <span>Run with different input</span>
      </label>
      ${
        newInput
          ? html`<${PayloadEditor} root="data" label="Input" idPrefix="rerun" showErrors=${tried} onChange=${setParsed} initial=${execution.data ?? {}} />`
          : null
      }
      ${error ? html`<p class="notice error" role="alert">${error}</p>` : null}
      <div class="buttons"><button type="submit" class="primary" disabled=${busy}>Start rerun</button></div>
    </form>
  `;
}

/**
 * @param {{ execution: Execution, steps: Step[] | null, onChanged: () => void }} props
 * steps: the timeline when the server has one, else null
 */
export function ExecutionActions({ execution, steps, onChanged }) {
  const [panel, setPanel] = useState(/** @type {"event" | "rerun" | null} */ (null));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState(/** @type {Message} */ (null));
  const id = seg(execution.execution_id);
  const waitFor = execution.waiting_for_event;
  const eventStep = waitFor ? (steps ?? []).find((s) => s.kind === "event" && s.name === waitFor && s.status === "waiting") : undefined;
  const schema = eventStep?.schema ?? null;

  /**
   * @param {string} label
   * @param {string} path
   * @param {string} done
   */
  const post = async (label, path, done) => {
    setBusy(true);
    setMessage(null);
    try {
      await api(path, { method: "POST" });
      setMessage({ kind: "ok", text: done });
    } catch (e) {
      setMessage({ kind: "error", text: failure(e, label) });
    } finally {
      setBusy(false);
      onChanged();
    }
  };

  /** @param {Message} m */
  const finished = (m) => {
    setPanel(null);
    setMessage(m);
    onChanged();
  };

  /** @param {"event" | "rerun"} which */
  const toggle = (which) => setPanel(panel === which ? null : which);

  return html`
    <div class="actions" aria-label="Actions" role="group">
      ${
        waitFor
          ? html`<button type="button" class="primary" aria-expanded=${panel === "event"} onClick=${() => toggle("event")}>Send event</button>`
          : null
      }
      ${
        RECOVERABLE.includes(execution.status)
          ? html`<button type="button" disabled=${busy} onClick=${() => post("Retry", `/executions/${id}/retry`, "Retrying: the execution is pending again.")}>Retry</button>`
          : null
      }
      <button type="button" aria-expanded=${panel === "rerun"} onClick=${() => toggle("rerun")}>Rerun…</button>
      ${
        ACTIVE.includes(execution.status)
          ? html`<${ConfirmButton}
            label="Cancel"
            confirmLabel="Yes, cancel it"
            question="Cancel this execution?"
            busy=${busy}
            onConfirm=${() => post("Cancel", `/executions/${id}/cancel`, "Cancelled.")}
          />`
          : null
      }
    </div>
    ${message ? html`<p class=${`notice ${message.kind === "error" ? "error" : "ok"}`} role=${message.kind === "error" ? "alert" : "status"}>${message.text}</p>` : null}
    ${
      panel === "event" && waitFor
        ? html`<${EventForm} key=${`${waitFor}:${schema ? "schema" : "json"}`} execution=${execution} schema=${schema} onDone=${finished} />`
        : null
    }
    ${panel === "rerun" ? html`<${RerunForm} execution=${execution} steps=${steps} onDone=${finished} />` : null}
  `;
}
