/**
 * Terminal records this process produced or read, served from memory: a terminal execution never changes
 * (until retention deletes it, which also drops it here), so a long-poll that wakes on completion, or a GET
 * of a finished execution, needs no read. Bounded in entries and in output size, so it cannot hold much
 * memory. Why it exists: docs/decisions/008-terminal-record-cache.md.
 */
import type { ExecutionRecord } from "../core/types.js";

const ENTRIES = 2000;
const MAX_OUTPUT_CHARS = 16 * 1024;

export class TerminalCache {
  private readonly records = new Map<string, ExecutionRecord>();

  remember(execution: ExecutionRecord): void {
    if ((execution.outputJson?.length ?? 0) > MAX_OUTPUT_CHARS) return;
    this.records.set(execution.id, execution);
    if (this.records.size > ENTRIES) this.records.delete(this.records.keys().next().value as string);
  }

  get(id: string): ExecutionRecord | undefined {
    return this.records.get(id);
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  /** A record that stopped being terminal (an operator retried it) or was deleted. */
  forget(id: string): void {
    this.records.delete(id);
  }
}
