/**
 * Which claims were sent before the latest `runnable` notice. A claim's answer says what was due in its
 * snapshot; a row a notice announced after the claim was sent may be missing from it, so a short answer
 * does not then mean that nothing is due, and the worker claims again (worker.ts, `took`).
 */
import type { ClaimRequest } from "../store/store.js";

/** How many notices had arrived when a claim was sent. */
export type ClaimMark = number;

export class ClaimNotices {
  private seen = 0;
  /** The mark of each claim folded into a checkpoint flush, until its answer comes back. */
  private readonly folded = new WeakMap<ClaimRequest, ClaimMark>();

  /** A `runnable` notice for work due now arrived. */
  noted(): void {
    this.seen += 1;
  }

  /** The mark of a claim sent now. */
  mark(): ClaimMark {
    return this.seen;
  }

  /** Whether a notice arrived after the claim marked `mark` was sent; a claim without a mark counts as sent before. */
  since(mark: ClaimMark | undefined): boolean {
    return mark === undefined || mark !== this.seen;
  }

  /** Marks a folded claim sent now. */
  markFolded(request: ClaimRequest): void {
    this.folded.set(request, this.seen);
  }

  /** The folded claim's mark, moved to `again` when its answer is handled as a later request (a late claim's kept rows). */
  foldedMark(request: ClaimRequest, again?: ClaimRequest): ClaimMark | undefined {
    const mark = this.folded.get(request);
    if (again !== undefined && mark !== undefined) this.folded.set(again, mark);
    return mark;
  }
}
