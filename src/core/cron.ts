/**
 * Cron expressions read in an IANA time zone, through croner 11 (pinned: how a tick in a DST gap is
 * placed changed between croner 10 and 11). Only croner's "compute the next time" API is used; no croner
 * timer ever runs, because the store, not the process, holds each schedule's next tick.
 *
 * Accepted: 5 fields (minute first) or 6 (second first), croner's nicknames (`@daily`, `@hourly`, …),
 * day-of-month and day-of-week combined with OR as in Vixie cron. Across DST (croner's "fixed-time" rule):
 * an expression whose second, minute and hour are single values (`30 2 * * *`) fires at the first valid
 * time after a gap (02:30 on a spring-forward day in Europe/Berlin fires at 03:00 local) and once on a
 * repeated hour (the first 02:30 on a fall-back day); any other expression (`*\/30 * * * *`) skips the
 * times a gap removes and fires on both occurrences of a repeated time.
 */
import { Cron } from "croner";

export interface CronRule {
  /** The first tick strictly after `ms`, or null when the expression never fires again. */
  nextAfter(ms: number): number | null;
  /** Up to `count` ticks strictly after `ms`, soonest first. */
  nextTimes(count: number, ms: number): number[];
  /** The latest tick at or before `ms`, or null. */
  latestAtOrBefore(ms: number): number | null;
}

/** The reason `timezone` is not a time zone this runtime knows, or null when it is. */
export function timezoneProblem(timezone: unknown): string | null {
  if (typeof timezone !== "string" || timezone.length === 0 || timezone.length > 64 || !/^[A-Za-z]/.test(timezone)) {
    return "timezone must be an IANA time zone name such as UTC or Europe/Berlin";
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return null;
  } catch {
    return `timezone "${timezone}" is not a known IANA time zone`;
  }
}

const rules = new Map<string, CronRule>();
/** Compiled rules kept for reuse (a scheduler pass computes ticks of the same few expressions again and again). */
const MAX_CACHED = 1000;

/** Compiles `expression` in `timezone`; throws an Error whose message says what is wrong. */
export function compileCron(expression: string, timezone: string): CronRule {
  const key = `${timezone}\u0000${expression}`;
  const cached = rules.get(key);
  if (cached) return cached;
  const problem = timezoneProblem(timezone);
  if (problem) throw new Error(problem);
  const cron = new Cron(expression, { timezone, mode: "5-or-6-parts" });
  const rule: CronRule = {
    nextAfter: (ms) => cron.nextRun(new Date(ms))?.getTime() ?? null,
    nextTimes: (count, ms) => cron.nextRuns(count, new Date(ms)).map((d) => d.getTime()),
    // croner includes a run earlier in the same second as the reference, so 1 ms later includes `ms` itself.
    latestAtOrBefore: (ms) => cron.previousRuns(1, new Date(ms + 1))[0]?.getTime() ?? null,
  };
  if (rules.size >= MAX_CACHED) rules.clear();
  rules.set(key, rule);
  return rule;
}
