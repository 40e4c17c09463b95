// @ts-check
/** Numbers, times and durations as the pages show them. */

const numbers = new Intl.NumberFormat("en-US");

/** @param {number} n */
export const count = (n) => numbers.format(n);

/** @param {string | null | undefined} iso */
export function toMs(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 4 h.
 * @param {number | null | undefined} ms
 */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const total = Math.floor(s);
  if (total < 3600) return `${Math.floor(total / 60)} min ${pad(total % 60)} s`;
  if (total < 86400) return `${Math.floor(total / 3600)} h ${pad(Math.floor((total % 3600) / 60))} min`;
  return `${Math.floor(total / 86400)} d ${Math.floor((total % 86400) / 3600)} h`;
}

/**
 * "12 s ago", "in 3 min", "just now".
 * @param {string | null | undefined} iso
 * @param {number} now
 */
export function relative(iso, now) {
  const ms = toMs(iso);
  if (ms === null) return "—";
  const diff = ms - now;
  const abs = Math.abs(diff);
  if (abs < 1500) return "just now";
  const units = /** @type {const} */ ([
    [86400_000, "d"],
    [3600_000, "h"],
    [60_000, "min"],
    [1000, "s"],
  ]);
  const [size, unit] = units.find(([size]) => abs >= size) ?? units[3];
  const amount = Math.floor(abs / size);
  return diff < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

/**
 * Local date and time to the second, for titles and headers.
 * @param {string | null | undefined} iso
 */
export function absolute(iso) {
  const ms = toMs(iso);
  if (ms === null) return "—";
  const d = new Date(ms);
  const pad = (/** @type {number} */ n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * How long something ran: from start to end, or to now while it still runs.
 * @param {string | null | undefined} startIso
 * @param {string | null | undefined} endIso
 * @param {number} now
 */
export function elapsed(startIso, endIso, now) {
  const start = toMs(startIso);
  if (start === null) return null;
  return (toMs(endIso) ?? now) - start;
}
