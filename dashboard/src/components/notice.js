// @ts-check
/** How a page says that something failed, is missing on this server, or is loading. */
import { ApiError, isUnavailable } from "../api.js";
import { html } from "../html.js";

/**
 * @param {unknown} error
 * @returns {string}
 */
export function messageOf(error) {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * The error of a failed load: "not available on this server" for a route the server lacks, nothing for a
 * 401 (the token prompt handles it), the API's message otherwise.
 * @param {{ error: unknown, what: string }} props
 */
export function LoadError({ error, what }) {
  if (!error) return null;
  if (isUnavailable(error)) {
    return html`<p class="notice unavailable" role="status">${what} is not available on this server (it has no such API route yet).</p>`;
  }
  if (error instanceof ApiError && error.status === 401) return html`<p class="notice" role="status">Waiting for an API token…</p>`;
  return html`<p class="notice error" role="alert">Could not load ${what.toLowerCase()}: ${messageOf(error)}</p>`;
}

/** @param {{ children?: unknown }} props */
export function Loading({ children }) {
  return html`<p class="notice muted" aria-busy="true">${children ?? "Loading…"}</p>`;
}
