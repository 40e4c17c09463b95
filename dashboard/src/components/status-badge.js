// @ts-check
import { html } from "../html.js";

/** @param {{ status: string }} props */
export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`} data-status=${status}>${status}</span>`;
}
