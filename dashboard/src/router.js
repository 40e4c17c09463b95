// @ts-check
/**
 * Client-side routing on real URLs (`/ui/executions/exec-…`), so links can be shared and the back button
 * works. The server answers every page URL with index.html (src/server/routes/dashboard.ts lists them).
 */
import { useEffect, useState } from "preact/hooks";

/** @typedef {{ path: string, query: URLSearchParams }} Location */

/** @type {Set<() => void>} */
const listeners = new Set();

function current() {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

function notify() {
  for (const listener of listeners) listener();
}

/**
 * @param {string} url
 * @param {{ replace?: boolean }} [options]
 */
export function navigate(url, options = {}) {
  if (url === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  notify();
  if (!options.replace) window.scrollTo(0, 0);
}

/** @returns {Location} */
export function useLocation() {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const onChange = () => setWhere(current());
    listeners.add(onChange);
    window.addEventListener("popstate", onChange);
    return () => {
      listeners.delete(onChange);
      window.removeEventListener("popstate", onChange);
    };
  }, []);
  return where;
}

/**
 * Plain `<a href="/ui/…">` links navigate in the page; modified clicks (new tab, download) stay the browser's.
 * @param {MouseEvent} event
 */
function onClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const target = event.target instanceof Element ? event.target.closest("a") : null;
  if (!target || target.target || target.hasAttribute("download") || target.origin !== location.origin) return;
  if (!target.pathname.startsWith("/ui/") && target.pathname !== "/") return;
  event.preventDefault();
  if (target.getAttribute("aria-disabled") === "true") return;
  navigate(target.pathname + target.search);
}

export function interceptLinks() {
  document.addEventListener("click", onClick);
}

/**
 * A URL with query parameters; empty values are left out.
 * @param {string} path
 * @param {Record<string, string | number | null | undefined>} params
 */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** @param {string} id */
export const executionUrl = (id) => `/ui/executions/${encodeURIComponent(id)}`;
