// @ts-check
/**
 * Start an execution: pick a task (from /tasks when the server lists them, typed in otherwise), fill the
 * form generated from its input schema or edit the JSON, submit, and land on the new execution.
 */
import { useState } from "preact/hooks";
import { api, isUnavailable } from "../api.js";
import { LoadError, messageOf } from "../components/notice.js";
import { PayloadEditor } from "../components/payload-editor.js";
import { useApi, useSubmit } from "../hooks.js";
import { html } from "../html.js";
import { executionUrl, navigate } from "../router.js";

/** @typedef {import("../types.js").Task} Task */
/** @typedef {import("../components/payload-editor.js").Parsed} Parsed */

/** @param {{ query: URLSearchParams }} props */
export function StartPage({ query }) {
  const tasksResource = useApi("/tasks");
  const tasks = /** @type {{ tasks: Task[] } | null} */ (tasksResource.data)?.tasks ?? null;
  const [task, setTask] = useState(query.get("task") ?? "");
  const [key, setKey] = useState("");
  const [parsed, setParsed] = useState(/** @type {Parsed | null} */ (null));
  const { busy, tried, error, submit } = useSubmit();

  const listed = tasks !== null && tasks.length > 0;
  // Until the first answer, neither the list nor the free-text field: a choice made now would be lost.
  const loading = tasks === null && tasksResource.error === null;
  const chosen = tasks?.find((t) => t.name === task) ?? null;
  const schema = chosen?.input_schema ?? null;

  /** @param {Event} event */
  const onSubmit = (event) => {
    event.preventDefault();
    /** @type {Record<string, unknown>} */
    const body = { task, data: parsed?.ok ? parsed.value : null };
    if (key.trim()) body.idempotency_key = key.trim();
    void submit(
      task !== "" && parsed?.ok === true,
      async () => {
        const created = /** @type {{ execution_id: string }} */ (await api("/executions", { body }));
        navigate(executionUrl(created.execution_id));
      },
      (e) => `Could not start it: ${messageOf(e)}`,
    );
  };

  /** @param {Event} e */
  const onTask = (e) => setTask(/** @type {HTMLInputElement | HTMLSelectElement} */ (e.currentTarget).value.trim());

  return html`
    <section class="page narrow">
      <h1>Start an execution</h1>
      ${tasksResource.error && !isUnavailable(tasksResource.error) ? html`<${LoadError} error=${tasksResource.error} what="Tasks" />` : null}
      <form class="panel" aria-label="Start an execution" onSubmit=${onSubmit}>
        <div class="field">
          <label for="start-task">Task</label>
          ${
            loading
              ? html`<select id="start-task" disabled><option>Loading tasks…</option></select>`
              : listed
                ? html`<select id="start-task" value=${task} onChange=${onTask} required>
                <option value="" disabled>Choose a task…</option>
                ${tasks.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
              </select>`
                : html`<input id="start-task" type="text" value=${task} onInput=${onTask} required placeholder="task name" autocomplete="off" />`
          }
        </div>
        ${
          !listed && isUnavailable(tasksResource.error)
            ? html`<p class="muted small">This server cannot list its tasks; type the name of a registered task.</p>`
            : null
        }
        ${chosen && !schema ? html`<p class="muted small">This task declares no input schema: any JSON object is accepted.</p>` : null}
        <${PayloadEditor}
          key=${schema ? JSON.stringify(schema) : "no-schema"}
          schema=${schema}
          root="data"
          label="Input"
          idPrefix="input"
          showErrors=${tried}
          onChange=${setParsed}
        />
        <div class="field">
          <label for="start-key">Idempotency key <span class="muted">(optional)</span></label>
          <input id="start-key" type="text" value=${key} maxlength="255" onInput=${(/** @type {Event} */ e) => setKey(/** @type {HTMLInputElement} */ (e.currentTarget).value)} />
        </div>
        ${tried && !task ? html`<p class="notice error" role="alert">Choose a task.</p>` : null}
        ${error ? html`<p class="notice error" role="alert">${error}</p>` : null}
        <div class="buttons"><button type="submit" class="primary" disabled=${busy}>Start</button></div>
      </form>
    </section>
  `;
}
