/**
 * Application-level group commit. Running executions hand their checkpoints here; everything queued
 * while the previous flush was in flight commits together in ONE store transaction. On Postgres every
 * commit is an fsync, so W1 at concurrency 10 costs ~0.5 transactions per execution instead of ~5.
 * When idle, a checkpoint flushes at once (after the current event-loop turn, so writes made in the
 * same turn — e.g. a quick step's "started" and "completed" — share the transaction).
 */
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Checkpoint, ClaimRequest, ClaimResult, Store } from "../store/store.js";
import { CheckpointRejectedError, isTransientStoreError } from "../store/store-errors.js";

/**
 * The worker's side of a claim folded into a flush: the slots a batch frees (finished runs hand theirs
 * over while their final write commits) are claimed for in the same round trip and transaction as the
 * batch, instead of by a separate claim right after.
 */
export interface FlushClaimer {
  /** A claim to send with the next flush, or null. */
  foldClaim(): ClaimRequest | null;
  /**
   * What it claimed, or null when the flush failed (the worker then claims on its own). `moreFlushes`:
   * a later claim is sure to come back here (a flush is queued, and will ask for one as it starts, or
   * one in flight carries one), so a claim can ride with it instead of going alone. A flush in flight
   * without a claim does not count: it asked before this answer and will bring none.
   */
  folded(request: ClaimRequest, claim: ClaimResult | null, moreFlushes: boolean): void;
}

interface Pending {
  checkpoint: Checkpoint;
  /** Progress-only writes may be dropped when a later write of the same execution supersedes them. */
  supersedable: boolean;
  resolve(applied: boolean): void;
  reject(error: unknown): void;
}

export interface GroupCommitterOptions {
  /** Most checkpoints per transaction; bounds transaction size and lock time. */
  maxBatch: number;
  /**
   * About the most characters of values (results, outputs, errors, children's data) per transaction: a
   * batch travels as one statement, and PostgreSQL refuses a jsonb value over 255 MB.
   */
  maxBatchChars: number;
  /**
   * Flushes allowed in flight at once. With one, every step waits for the commit before it plus its
   * own; with two, a new batch starts while the previous one commits, and Postgres folds concurrent
   * commits into one WAL flush. Why two: docs/decisions/002-group-commit.md.
   */
  maxInFlight: number;
  /** How long a failing flush is retried (transient store errors) before its writers are told it failed. */
  retryForMs: number;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private readonly flushes = new Set<Promise<void>>();
  /** Flushes in flight that carry a folded claim. */
  private claimsOut = 0;
  /** Executions with a write in a flush under way: their next writes wait, so each applies in order. */
  private readonly busy = new Set<string>();
  private scheduled = false;
  private claimer: FlushClaimer | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: GroupCommitterOptions,
  ) {}

  setClaimer(claimer: FlushClaimer): void {
    this.claimer = claimer;
  }

  /** Resolves true once committed, false when fenced out (lease lost or execution cancelled). */
  submit(checkpoint: Checkpoint): Promise<boolean> {
    return this.enqueue(checkpoint, false);
  }

  /** A best-effort progress write (e.g. `current_step`); merged away if superseded before flushing. */
  submitProgress(checkpoint: Checkpoint): void {
    this.enqueue(checkpoint, true).catch((error: unknown) => this.logger.warn({ err: error }, "progress write failed"));
  }

  /** Resolves when everything submitted so far is committed (used by shutdown). */
  async drain(): Promise<void> {
    while (this.flushes.size > 0 || this.queue.length > 0) {
      this.pump();
      await Promise.race(this.flushes);
    }
  }

  private enqueue(checkpoint: Checkpoint, supersedable: boolean): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ checkpoint, supersedable, resolve, reject });
      if (!this.scheduled && this.flushes.size < this.options.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Starts flushes while there is queued work that can go and a free flush slot. */
  private pump(): void {
    while (this.flushes.size < this.options.maxInFlight) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      const flush = this.flush(batch).finally(() => {
        this.flushes.delete(flush);
        for (const item of batch) this.busy.delete(item.checkpoint.fence.executionId);
        this.pump();
      });
      this.flushes.add(flush);
    }
  }

  /**
   * Takes queued writes in order: at most one per execution (a store applies a batch as one statement, so
   * two writes of one execution must be two batches), none of an execution whose write is in a flush under
   * way, at most `maxBatch` of them and about `maxBatchChars` of their values (one larger write goes alone).
   * A progress-only write followed by another write of its execution is dropped (the later one says more).
   */
  private takeBatch(): Pending[] {
    const queue = dropSuperseded(this.queue);
    const taken: Pending[] = [];
    const kept: Pending[] = [];
    const blocked = new Set(this.busy);
    let chars = 0;
    for (const item of queue) {
      const id = item.checkpoint.fence.executionId;
      const size = checkpointChars(item.checkpoint);
      const full = taken.length >= this.options.maxBatch || (taken.length > 0 && chars + size > this.options.maxBatchChars);
      if (full || blocked.has(id)) kept.push(item);
      else {
        taken.push(item);
        chars += size;
      }
      blocked.add(id);
    }
    this.queue = kept;
    for (const item of taken) this.busy.add(item.checkpoint.fence.executionId);
    return taken;
  }

  private async flush(batch: Pending[]): Promise<void> {
    const request = this.claimer?.foldClaim() ?? null;
    const results = await this.applyWithRetry(batch, request);
    if (results instanceof Error) {
      if (isTransientStoreError(results) || batch.length === 1) {
        const error = isTransientStoreError(results) ? results : new CheckpointRejectedError(results);
        for (const item of batch) item.reject(error);
        return;
      }
      // Refused for good: one of them carries something the store cannot take. Each alone, so only that
      // execution fails and the others commit once.
      this.logger.warn({ err: results, size: batch.length }, "checkpoint batch refused; applying its checkpoints one by one");
      await Promise.all(batch.map((item) => this.flush([item])));
      return;
    }
    batch.forEach((item, i) => {
      item.resolve(results[i] ?? false);
    });
  }

  /** A folded claim goes with the first attempt only: after a failure nobody knows what it took. */
  private async applyWithRetry(batch: Pending[], request: ClaimRequest | null): Promise<boolean[] | Error> {
    const deadline = this.clock.now() + this.options.retryForMs;
    const checkpoints = batch.map((item) => item.checkpoint);
    for (let delay = 50, tries = 1; ; delay = Math.min(delay * 2, 2000), tries++) {
      try {
        if (tries === 1 && request) {
          this.claimsOut += 1;
          const { results, claim } = await this.store.applyAndClaim(checkpoints, request).catch((error: unknown) => {
            this.claimsOut -= 1;
            this.claimer?.folded(request, null, false);
            throw error;
          });
          this.claimsOut -= 1;
          this.claimer?.folded(request, claim, this.queue.length > 0 || this.claimsOut > 0);
          return results;
        }
        const results = await this.store.applyCheckpoints(checkpoints);
        return tries === 1 ? results : await this.resolveAmbiguous(batch, results);
      } catch (error) {
        // Re-applying a batch is harmless (upserts; a write whose first application moved the row out of
        // `running` is simply fenced out), so retrying an ambiguous failure is safe. A refusal is not retried.
        if (!isTransientStoreError(error) || this.clock.now() + delay > deadline)
          return error instanceof Error ? error : new Error(String(error));
        this.logger.warn({ err: error, size: batch.length }, "checkpoint flush failed; retrying");
        await this.clock.sleep(delay);
      }
    }
  }

  /**
   * After a failed attempt whose commit may have happened unseen, "fenced out" is ambiguous: the first
   * attempt may have applied the write and moved the row out of `running`. With our token still current
   * and the row not cancelled, only our own write can have done that, so it counts as applied.
   */
  private async resolveAmbiguous(batch: Pending[], results: boolean[]): Promise<boolean[]> {
    return Promise.all(
      results.map(async (applied, i) => {
        const fence = batch[i]?.checkpoint.fence;
        if (applied || !fence) return applied;
        const row = await this.store.getExecution(fence.executionId);
        return row !== null && row.leaseToken === fence.leaseToken && row.status !== "cancelled";
      }),
    );
  }
}

/** The characters a checkpoint's values take, roughly (the rest of a checkpoint is small and bounded). */
function checkpointChars(checkpoint: Checkpoint): number {
  let chars = 256;
  for (const step of checkpoint.steps ?? []) chars += (step.resultJson?.length ?? 0) + (step.error?.stack?.length ?? 0) + 256;
  for (const attempt of checkpoint.attempts ?? []) chars += attempt.error.message.length + (attempt.error.stack?.length ?? 0) + 128;
  for (const child of checkpoint.children ?? []) chars += child.dataJson.length + 256;
  const { patch } = checkpoint;
  if (patch.transition === "complete") chars += patch.outputJson.length;
  if (patch.transition === "fail") chars += patch.error.message.length + (patch.error.stack?.length ?? 0);
  return chars;
}

/** Drops progress-only writes followed (later in the queue) by another write of the same execution. */
function dropSuperseded(batch: Pending[]): Pending[] {
  const lastIndex = new Map<string, number>();
  batch.forEach((item, i) => {
    lastIndex.set(item.checkpoint.fence.executionId, i);
  });
  return batch.filter((item, i) => {
    if (item.supersedable && lastIndex.get(item.checkpoint.fence.executionId) !== i) {
      item.resolve(true);
      return false;
    }
    return true;
  });
}
