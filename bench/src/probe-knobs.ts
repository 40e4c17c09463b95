/**
 * Ablation switches for the probes (docs/decisions): each puts back, in this process only, the alternative
 * that a decision record compares the engine's choice with, by replacing one method on a prototype. The
 * engine's source is untouched; without these variables the probes run the engine as shipped.
 *
 *   PROBE_DB=zbench_…          the probe's database (default: the probe's own name)
 *   PROBE_IN_FLIGHT=n          checkpoint flushes in flight at once (the engine uses 2)      decisions/002
 *   PROBE_SETTLING=concurrency settling runs free of a slot: `concurrency` instead of
 *                              `concurrency + prefetch`                                     decisions/003
 *   PROBE_NOTICES=unpacked     one NOTIFY payload per terminal notice instead of packed;
 *                =none         no terminal notices at all                                   decisions/011
 *   PROBE_PARKED_RESUME=0      a delivery never resumes a run this process parked (delivery,
 *                              then completion: two commits)                                decisions/007
 *   PROBE_TERMINAL_CACHE=0     terminal records are always read from the store              decisions/008
 *   PROBE_TERMINAL_ENTRIES=n   the terminal cache keeps n records (the engine keeps 256)    decisions/008
 *   PROBE_INSERTS=at-once      PostgreSQL's insert batcher starts a statement at once when one
 *                              is free, not at the end of the turn (server-knobs.mjs)       decisions/032
 */
import { TerminalCache } from "../../dist/engine/terminal-cache.js";
import { NoticePublisher } from "../../dist/store/postgres/publisher.js";
import type { Notice } from "../../dist/store/store.js";
import { GroupCommitter, type GroupCommitterOptions } from "../../dist/worker/group-committer.js";
import { Slots } from "../../dist/worker/slots.js";
import { Worker } from "../../dist/worker/worker.js";
// Applies its own switches (PROBE_INSERTS) on import; a probe's zart-server preloads it instead.
import "./server-knobs.mjs";

/** The probe's database: PROBE_DB, or its default. Only `zbench_*` names, which the suite owns. */
export function probeDatabase(fallback: string): string {
  const name = process.env.PROBE_DB ?? fallback;
  if (!/^zbench_[a-z0-9_]+$/.test(name)) throw new Error(`PROBE_DB must match zbench_[a-z0-9_]+ (got "${name}")`);
  return name;
}

/** Applies the PROBE_* switches that are set; returns their description for the probe's output. */
export function applyKnobs(): Record<string, string> {
  const applied: Record<string, string> = {};
  const env = process.env;
  if (env.PROBE_IN_FLIGHT) {
    const maxInFlight = Number(env.PROBE_IN_FLIGHT);
    const setClaimer = GroupCommitter.prototype.setClaimer;
    // The engine builds its committer, then hands it the worker: the first moment a probe can reach it.
    GroupCommitter.prototype.setClaimer = function (this: { options: GroupCommitterOptions }, claimer) {
      this.options = { ...this.options, maxInFlight };
      return setClaimer.call(this as unknown as GroupCommitter, claimer);
    };
    applied.inFlight = String(maxInFlight);
  }
  if (env.PROBE_SETTLING === "concurrency") {
    Slots.prototype.settlingFree = function (this: { concurrency: number }) {
      return this.concurrency;
    };
    applied.settling = "concurrency";
  }
  if (env.PROBE_NOTICES === "unpacked" || env.PROBE_NOTICES === "none") {
    const publish = NoticePublisher.prototype.publish;
    const mode = env.PROBE_NOTICES;
    NoticePublisher.prototype.publish = function (notices: readonly Notice[]) {
      const terminal = notices.filter((n) => n.kind === "terminal");
      publish.call(
        this,
        notices.filter((n) => n.kind !== "terminal"),
      );
      if (mode === "unpacked") for (const notice of terminal) publish.call(this, [notice]);
    };
    applied.notices = mode;
  }
  if (env.PROBE_PARKED_RESUME === "0") {
    Worker.prototype.takeParked = () => null;
    applied.parkedResume = "off";
  }
  if (env.PROBE_TERMINAL_CACHE === "0") {
    TerminalCache.prototype.get = () => undefined;
    applied.terminalCache = "off";
  }
  if (env.PROBE_TERMINAL_ENTRIES) {
    const entries = Number(env.PROBE_TERMINAL_ENTRIES);
    (TerminalCache.prototype as unknown as { trim(): void }).trim = function (this: { records: Map<string, unknown> }) {
      if (this.records.size > entries) this.records.delete(this.records.keys().next().value as string);
    };
    applied.terminalEntries = String(entries);
  }
  if (env.PROBE_INSERTS === "at-once") applied.inserts = "at-once";
  return applied;
}
