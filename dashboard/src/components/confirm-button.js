// @ts-check
/** A destructive action asks once more in place (no window.confirm, which blocks the page). */
import { useState } from "preact/hooks";
import { html } from "../html.js";

/**
 * detail: an optional line under the question (what the action will and will not do).
 * @param {{ label: string, confirmLabel: string, question: string, detail?: string, onConfirm: () => void, busy?: boolean }} props
 */
export function ConfirmButton({ label, confirmLabel, question, detail, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return html`<button type="button" class="danger" disabled=${busy} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`
    <span class="confirm" role="group" aria-label=${question}>
      <span>${question}</span>
      ${detail ? html`<span class="confirm-detail muted small">${detail}</span>` : null}
      <button
        type="button"
        class="danger"
        onClick=${() => {
          setAsking(false);
          onConfirm();
        }}
      >
        ${confirmLabel}
      </button>
      <button type="button" onClick=${() => setAsking(false)}>Keep it</button>
    </span>
  `;
}
