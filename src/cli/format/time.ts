/** Times for people: "3 min ago", "in 2 h", "1.4s". Pure: the caller passes `now` (ms since the epoch). */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 days ago"; future times as "in 3 min". */
export function relativeTime(iso: string, now: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = now - at;
  const size = Math.abs(delta);
  if (size < SECOND) return "just now";
  const amount =
    size < MINUTE
      ? `${Math.floor(size / SECOND)} s`
      : size < HOUR
        ? `${Math.floor(size / MINUTE)} min`
        : size < DAY
          ? `${Math.floor(size / HOUR)} h`
          : days(size);
  return delta > 0 ? `${amount} ago` : `in ${amount}`;
}

function days(ms: number): string {
  const n = Math.floor(ms / DAY);
  return n === 1 ? "1 day" : `${n} days`;
}

/** "12ms", "1.4s", "3m 05s", "2h 03m", "3d 4h". */
export function formatDuration(ms: number): string {
  if (ms < SECOND) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < MINUTE) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m ${pad(Math.floor((ms % MINUTE) / SECOND))}s`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h ${pad(Math.floor((ms % HOUR) / MINUTE))}m`;
  return `${Math.floor(ms / DAY)}d ${Math.floor((ms % DAY) / HOUR)}h`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The time between two RFC 3339 stamps, or `null` when either is missing. */
export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? null : ms;
}

/** "2026-04-04T10:23:11Z (3 min ago)", or "-" for none. */
export function stamp(iso: string | null | undefined, now: number): string {
  return iso ? `${iso} (${relativeTime(iso, now)})` : "-";
}
