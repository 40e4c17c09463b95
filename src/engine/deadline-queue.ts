/**
 * Entries ordered by deadline (a binary min-heap). Each entry keeps its own position in the heap, so
 * removing one that is no longer wanted (a long-poll whose client went away) frees it at once, in
 * O(log n), instead of leaving it in the queue until its deadline.
 */
export interface Deadline {
  /** Clock time (ms) at which the entry falls due. */
  readonly deadline: number;
  /** Position in the queue; -1 when not queued. Owned by the queue. */
  slot: number;
}

export class DeadlineQueue<T extends Deadline> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The entry due first, or undefined when empty. */
  first(): T | undefined {
    return this.heap[0];
  }

  has(entry: T): boolean {
    return entry.slot >= 0 && this.heap[entry.slot] === entry;
  }

  push(entry: T): void {
    entry.slot = this.heap.length;
    this.heap.push(entry);
    this.up(entry.slot);
  }

  /** Removes the entry if it is queued; returns whether it was. */
  remove(entry: T): boolean {
    if (!this.has(entry)) return false;
    const slot = entry.slot;
    entry.slot = -1;
    const last = this.heap.pop() as T;
    if (slot < this.heap.length) {
      this.place(last, slot);
      this.down(slot);
      this.up(last.slot);
    }
    return true;
  }

  private place(entry: T, slot: number): void {
    this.heap[slot] = entry;
    entry.slot = slot;
  }

  private up(slot: number): void {
    const entry = this.heap[slot] as T;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = this.heap[parentSlot] as T;
      if (parent.deadline <= entry.deadline) break;
      this.place(parent, slot);
      slot = parentSlot;
    }
    this.place(entry, slot);
  }

  private down(slot: number): void {
    const entry = this.heap[slot] as T;
    const n = this.heap.length;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (this.heap[right] as T).deadline < (this.heap[child] as T).deadline) child = right;
      const smaller = this.heap[child] as T;
      if (smaller.deadline >= entry.deadline) break;
      this.place(smaller, slot);
      slot = child;
    }
    this.place(entry, slot);
  }
}
