/** Durations are milliseconds or strings such as `"250ms"`, `"5s"`, `"10m"`, `"24h"`, `"7d"`, `"1h30m"`. */
export type Duration = number | string;

/** The largest time both stores and JavaScript's Date represent exactly (epoch ms, year 275760). */
export const MAX_TIME_MS = 8.64e15;

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * A duration in milliseconds. One longer than {@link MAX_TIME_MS} (Infinity included) is refused here, at
 * the value, because no store can hold a time that far from now: a cut-off or wake-up made from it would
 * fail later, far from the option that caused it.
 */
export function toMs(duration: Duration): number {
  if (typeof duration === "number") {
    if (Number.isNaN(duration) || duration < 0) throw new RangeError(`Invalid duration: ${duration}`);
    return notTooLong(duration, String(duration));
  }
  const text = duration.trim();
  if (text === "") throw new RangeError("Invalid duration: empty string");
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length) throw new RangeError(`Invalid duration: "${duration}" (use e.g. 500ms, 5s, 10m, 2h, 1d)`);
  return notTooLong(total, `"${duration}"`);
}

function notTooLong(ms: number, shown: string): number {
  if (ms > MAX_TIME_MS) throw new RangeError(`Invalid duration: ${shown} is too long (at most ${MAX_TIME_MS / DAY_MS} days)`);
  return ms;
}

/** A wake-up time that both stores can hold: an integer millisecond within Date's range, or null when it is not. */
export function storableTime(ms: number): number | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS ? Math.round(ms) : null;
}
