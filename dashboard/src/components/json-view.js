// @ts-check
/**
 * Formatted, lightly coloured JSON. Built from text nodes and spans only (no innerHTML). Very large values
 * are shown without colours: tokenising megabytes would stall the page for no gain.
 */
import { html } from "../html.js";

const HIGHLIGHT_LIMIT = 100_000;
const TOKEN = /("(?:\\.|[^"\\])*"(?=\s*:))|("(?:\\.|[^"\\])*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

/** @param {string} text */
function tokens(text) {
  /** @type {unknown[]} */
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) parts.push(text.slice(last, index));
    const kind = match[1] ? "key" : match[2] ? "string" : match[3] ? "number" : "literal";
    parts.push(html`<span class=${`j-${kind}`}>${match[0]}</span>`);
    last = index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** @param {unknown} value */
export function isTruncated(value) {
  return typeof value === "object" && value !== null && /** @type {{truncated?: unknown}} */ (value).truncated === true;
}

/** @param {{ value: unknown, label?: string }} props */
export function JsonView({ value, label }) {
  if (value === undefined) return html`<p class="muted">Not available.</p>`;
  if (isTruncated(value)) {
    const bytes = /** @type {{bytes?: number}} */ (value).bytes;
    return html`<p class="muted">Too large to show here${bytes ? ` (${bytes.toLocaleString("en-US")} bytes)` : ""}; the full value is stored.</p>`;
  }
  const text = JSON.stringify(value, null, 2) ?? "undefined";
  return html`<pre class="json" aria-label=${label}>${text.length > HIGHLIGHT_LIMIT ? text : tokens(text)}</pre>`;
}
