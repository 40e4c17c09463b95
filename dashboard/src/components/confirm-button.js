// @ts-check
/** A destructive action asks once more in place (no window.confirm, which blocks the page). */
import { useState } from "preact/hooks";
import { html } from "../html.js";

/**
 * @param {{ label: string, confirmLabel: string, question: string, onConfirm: () => void, busy?: boolean }} props
 */
export function ConfirmButton({ label, confirmLabel, question, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return html`<button type="button" class="danger" disabled=${busy} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`
    <span class="confirm" role="group" aria-label=${question}>
      <span>${question}</span>
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
