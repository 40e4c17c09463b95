// @ts-check
/**
 * The step timeline: one row per step, sleep, event wait and child, in the order first reached, each a bar
 * drawn to scale between the execution's first and last moment; a step's attempts are segments of its bar
 * (failed ones marked). A row opens to show its attempts, errors with their stacks, and its value.
 */

import { JsonView } from "../components/json-view.js";
import { absolute, duration, relative, toMs } from "../format.js";
import { html } from "../html.js";
import { executionUrl } from "../router.js";

/** @typedef {import("../types.js").Step} Step */
/** @typedef {import("../types.js").Attempt} Attempt */
/** @typedef {import("../types.js").Execution} Execution */
/** @typedef {{ start: number, end: number }} Span */

const KIND_ICONS = { step: "●", sleep: "◔", event: "✉", child: "↳" };

/**
 * When a step began and ended (or now, while it goes on). A sleep that has not woken ends now on the
 * scale, not at its wake time, which may be days away and would squash every other bar.
 * @param {Step} step
 * @param {number} now
 * @returns {Span | null}
 */
function spanOf(step, now) {
  const attempts = step.attempts ?? [];
  const start = toMs(step.started_at) ?? toMs(attempts[0]?.started_at);
  if (start === null) return null;
  const lastEnd = toMs(attempts[attempts.length - 1]?.ended_at);
  const done = step.status === "completed" || step.status === "failed";
  const end = toMs(step.completed_at) ?? (done ? lastEnd : null) ?? now;
  return { start, end: Math.max(end, start) };
}

/**
 * @param {Execution} execution
 * @param {Step[]} steps
 * @param {number} now
 */
function scaleOf(execution, steps, now) {
  const spans = steps.map((s) => spanOf(s, now)).filter((s) => s !== null);
  const starts = [...spans.map((s) => s.start), toMs(execution.started_at)].filter((t) => t !== null);
  const terminal = ["completed", "failed", "cancelled"].includes(execution.status);
  const ends = [...spans.map((s) => s.end), terminal ? toMs(execution.completed_at) : now].filter((t) => t !== null);
  const start = starts.length ? Math.min(...starts) : now;
  const end = Math.max(start + 1, ...ends);
  return { start, end, length: end - start };
}

/**
 * Left and width in percent of the track.
 * @param {{ start: number, length: number }} scale
 * @param {number} from
 * @param {number} to
 */
function place(scale, from, to) {
  const left = ((from - scale.start) / scale.length) * 100;
  const width = ((to - from) / scale.length) * 100;
  return { left: `${Math.max(0, Math.min(100, left)).toFixed(3)}%`, width: `max(3px, ${Math.max(0, width).toFixed(3)}%)` };
}

/** @param {{ attempts: Attempt[], now: number }} props */
function Attempts({ attempts, now }) {
  if (attempts.length === 0) return null;
  return html`
    <div class="table-scroll">
    <table class="attempts">
      <thead>
        <tr><th scope="col">Attempt</th><th scope="col">Execution attempt</th><th scope="col">Started</th><th scope="col" class="num">Took</th><th scope="col">Outcome</th></tr>
      </thead>
      <tbody>
        ${attempts.map(
          (a) => html`
            <tr class=${a.error ? "failed" : ""}>
              <td data-label="Attempt">#${a.attempt}</td>
              <td data-label="Execution attempt">${a.execution_attempt ?? "—"}</td>
              <td data-label="Started" title=${absolute(a.started_at)}>${absolute(a.started_at)}</td>
              <td data-label="Took" class="num">${duration((toMs(a.ended_at) ?? now) - (toMs(a.started_at) ?? now))}</td>
              <td data-label="Outcome">${a.error ? html`<${ErrorDetail} error=${a.error} />` : a.ended_at ? "ok" : "running"}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
    </div>
  `;
}

/** @param {{ error: import("../types.js").ErrorInfo }} props */
export function ErrorDetail({ error }) {
  const title = [error.name, error.code].filter(Boolean).join(" · ");
  return html`
    <div class="error-detail">
      <p class="error-message">${title ? html`<strong>${title}: </strong>` : null}${error.message}</p>
      ${error.stack ? html`<details class="stack"><summary>Stack trace</summary><pre>${error.stack}</pre></details>` : null}
    </div>
  `;
}

/** @param {{ step: Step, now: number }} props */
function StepDetail({ step, now }) {
  const facts = [];
  if (step.copied_from)
    facts.push(html`<li>Copied from <a href=${executionUrl(step.copied_from)}>${step.copied_from}</a> (a rerun replays it)</li>`);
  if (step.wake_at)
    facts.push(
      html`<li>${step.status === "completed" ? "Woke" : "Wakes"} ${relative(step.wake_at, now)} <span class="muted">(${absolute(step.wake_at)})</span></li>`,
    );
  if (step.retry_at)
    facts.push(html`<li>Next attempt ${relative(step.retry_at, now)} <span class="muted">(${absolute(step.retry_at)})</span></li>`);
  if (step.discarded) facts.push(html`<li>Set aside by a retry: this step runs again</li>`);
  if (step.closed) facts.push(html`<li>Closed: the execution ended while it waited</li>`);
  if (step.timeout_at)
    facts.push(html`<li>Times out ${relative(step.timeout_at, now)} <span class="muted">(${absolute(step.timeout_at)})</span></li>`);
  if (step.child_execution_id)
    facts.push(html`<li>Child execution <a href=${executionUrl(step.child_execution_id)}>${step.child_execution_id}</a></li>`);
  const value = step.kind === "event" ? step.payload : step.result;
  const valueLabel = step.kind === "event" ? "Payload" : "Result";
  return html`
    <div class="step-detail">
      ${facts.length ? html`<ul class="facts">${facts}</ul>` : null}
      ${step.error ? html`<${ErrorDetail} error=${step.error} />` : null}
      <${Attempts} attempts=${step.attempts ?? []} now=${now} />
      ${value !== undefined && value !== null ? html`<h4>${valueLabel}</h4><${JsonView} value=${value} label=${`${valueLabel} of ${step.name}`} />` : null}
    </div>
  `;
}

/** @param {{ step: Step, scale: { start: number, length: number }, now: number }} props */
function Row({ step, scale, now }) {
  const span = spanOf(step, now);
  const attempts = step.attempts ?? [];
  const failures = attempts.filter((a) => a.error).length;
  const took = span ? span.end - span.start : null;
  return html`
    <li class=${`timeline-row kind-${step.kind} step-${step.status}`} data-step=${step.name}>
      <details>
        <summary class="step-summary">
          <span class="step-label">
            <span class="kind-icon" title=${step.kind} aria-hidden="true">${KIND_ICONS[step.kind] ?? "•"}</span>
            <span class="step-name">${step.name}</span>
            <span class="step-meta muted">
              ${step.kind} · <span class="step-status">${step.status}</span>${took !== null ? ` · ${duration(took)}` : ""}
              ${attempts.length > 1 ? ` · ${attempts.length} attempts` : ""}${failures ? ` · ${failures} failed` : ""}
              ${step.copied_from ? " · copied" : ""}${step.discarded ? " · discarded" : ""}${step.closed ? " · closed" : ""}
            </span>
          </span>
          <span class="track" aria-hidden="true">
            ${
              span
                ? html`<span class="bar" style=${place(scale, span.start, span.end)}></span>
                  ${
                    step.kind === "step" && attempts.length > 1
                      ? attempts.map((a) => {
                          const from = toMs(a.started_at);
                          if (from === null) return null;
                          return html`<span class=${`segment ${a.error ? "failed" : "ok"}`} style=${place(scale, from, toMs(a.ended_at) ?? now)}></span>`;
                        })
                      : null
                  }`
                : null
            }
          </span>
        </summary>
        <${StepDetail} step=${step} now=${now} />
      </details>
    </li>
  `;
}

/** @param {{ execution: Execution, steps: Step[], now: number }} props */
export function Timeline({ execution, steps, now }) {
  if (steps.length === 0) return html`<p class="muted">No steps reached yet.</p>`;
  const scale = scaleOf(execution, steps, now);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return html`
    <div class="timeline" data-testid="timeline">
      <div class="timeline-axis" aria-hidden="true">
        <span class="step-label"></span>
        <span class="track">${ticks.map((t) => html`<span class="tick" style=${{ left: `${t * 100}%` }}>${duration(t * scale.length)}</span>`)}</span>
      </div>
      <ol class="timeline-rows">
        ${steps.map((step, i) => html`<${Row} key=${`${i}:${step.name}`} step=${step} scale=${scale} now=${now} />`)}
      </ol>
    </div>
  `;
}
