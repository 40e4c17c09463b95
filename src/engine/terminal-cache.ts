/**
 * Terminal records this process produced or read, served from memory: a terminal execution does not
 * change until an operator retries it (or retention deletes it), so a long-poll that wakes on completion,
 * or a GET of a finished execution, needs no read. Bounded in entries and in the size of each record's
 * values (input data, output and error together), so it cannot hold much memory: entries are dropped only
 * when newer ones push them out, not when their time is up.
 *
 * A retry makes a terminal record stale. The engine that retries forgets it before answering; every engine
 * on the store forgets it when the `resumed` notice arrives (across processes on PostgreSQL), and forgets
 * everything when its notice channel reconnects. Entries also expire after {@link TERMINAL_RECORD_TTL_MS},
 * which bounds how stale a GET can be where no notice arrives (a lost notice; SQLite shared by several
 * processes).
 */
import type { ExecutionRecord } from "../core/types.js";

/**
 * The records kept. A waiter reads its record within a turn or two of the completion (decision 008), so a
 * few hundred cover it; more kept records outlive the young generation and cost the collector more than
 * they save (decision 008, "How many").
 */
const ENTRIES = 256;
/** The most characters of values (data, output, error) a kept record may have. */
const MAX_RECORD_CHARS = 16 * 1024;
/** How long a cached terminal record is served without reading the store again. */
export const TERMINAL_RECORD_TTL_MS = 1000;

/** A record, or how to make it: a record this process's worker wrote is made when first asked for. */
type Entry = { record: ExecutionRecord | (() => ExecutionRecord); at: number };

export class TerminalCache {
  private readonly records = new Map<string, Entry>();

  /** `now`: the engine's clock. */
  constructor(private readonly now: () => number) {}

  remember(execution: ExecutionRecord): void {
    this.put(execution.id, recordChars(execution), execution);
  }

  /**
   * A terminal record this process wrote, made only if someone asks for it (most are never read); `values`
   * are its values that can be large, which decide whether it is kept.
   */
  rememberWritten(id: string, values: RecordValues, make: () => ExecutionRecord): void {
    this.put(id, recordChars(values), make);
  }

  private put(id: string, valueChars: number, record: Entry["record"]): void {
    if (valueChars > MAX_RECORD_CHARS) return;
    this.records.delete(id);
    this.records.set(id, { record, at: this.now() });
    this.trim();
  }

  /** Drops the oldest record once more than ENTRIES are kept. */
  private trim(): void {
    if (this.records.size > ENTRIES) this.records.delete(this.records.keys().next().value as string);
  }

  get(id: string): ExecutionRecord | undefined {
    const entry = this.live(id);
    if (entry === undefined) return undefined;
    if (typeof entry.record === "function") entry.record = entry.record();
    return entry.record;
  }

  has(id: string): boolean {
    return this.live(id) !== undefined;
  }

  private live(id: string): Entry | undefined {
    const entry = this.records.get(id);
    if (entry !== undefined && this.now() - entry.at >= TERMINAL_RECORD_TTL_MS) {
      this.records.delete(id);
      return undefined;
    }
    return entry;
  }

  /** A record that stopped being terminal (an operator retried it) or was deleted. */
  forget(id: string): void {
    this.records.delete(id);
  }

  /** Notices may have been missed (the channel reconnected): nothing cached can be trusted. */
  clear(): void {
    this.records.clear();
  }
}

/** A record's values that can be large: its input data, output and error. */
export type RecordValues = Pick<ExecutionRecord, "dataJson" | "outputJson" | "error">;

function recordChars(execution: RecordValues): number {
  const { error } = execution;
  const errorChars = error === null ? 0 : error.message.length + (error.stack?.length ?? 0);
  return execution.dataJson.length + (execution.outputJson?.length ?? 0) + errorChars;
}
