/**
 * Retention (docs/retention.md): this engine's prune rounds, one at a time, and the background rounds of
 * the `retention` option on the injected clock. The store keeps rounds of different processes apart (its
 * prune lock) and deletes in batches; here a round picks its cutoff on the engine's clock, counts what
 * each batch deleted, and pauses between batches for as long as the batch took, so a round holds the
 * database (SQLite's single write lock above all) at most half the time and never starves other writers.
 * Why: docs/decisions/009-retention-pruning.md.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Clock } from "../core/clock.js";
import { toMs } from "../core/duration.js";
import { ZartError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { PruneOutcome, Store } from "../store/store.js";
import type { EngineMetrics } from "./metrics.js";

/** While another process prunes, `prune()` looks again this often (the engine's clock). */
const LOCK_RETRY_MS = 1000;
/** The longest pause between batches, however long a batch took. */
const MAX_PAUSE_MS = 250;

export interface ResolvedRetention {
  /** Background rounds delete what ended longer ago than this; null: no background rounds. */
  readonly olderThanMs: number | null;
  /** Time between the end of one background round and the start of the next. */
  readonly everyMs: number;
  /** Executions deleted per transaction (background rounds and `engine.prune` alike). */
  readonly batchSize: number;
}

export interface PruningDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: EngineMetrics;
  /** Holder of the store's prune lock: the engine's worker id. */
  holder: string;
  retention: ResolvedRetention;
  /** After a batch deleted something: records cached as terminal may be gone. */
  onPruned(): void;
}

/** `older_than` of a prune request in ms; a clear `invalid_request` for anything that is not a duration. */
export function pruneAge(value: unknown): number {
  const refuse = (why: string) => new ZartError("invalid_request", `older_than must be a duration such as "30d", "12h" or "90m" (${why})`);
  if (typeof value !== "string" && typeof value !== "number") throw refuse(value === undefined ? "missing" : `got ${typeof value}`);
  try {
    return toMs(value);
  } catch (error) {
    throw refuse((error as Error).message);
  }
}

export class Pruning {
  /** This engine's rounds, in order: a round starts once the one before it has ended. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly stopping = new AbortController();
  private cancelTimer: (() => void) | null = null;
  private background: Promise<void> | null = null;

  constructor(private readonly deps: PruningDeps) {}

  /** Starts the background rounds (the first at once) when `retention` is on. */
  start(): void {
    if (this.deps.retention.olderThanMs !== null) this.runBackground(this.deps.retention.olderThanMs);
  }

  /**
   * One complete round (`engine.prune`), after this engine's round in flight; while another process holds
   * the store's prune lock, it waits for that round to end. Returns how many executions it deleted.
   */
  async prune(olderThanMs: number): Promise<number> {
    for (;;) {
      const outcome = await this.round(olderThanMs);
      if (outcome.ran) return outcome.pruned;
      try {
        await this.deps.clock.sleep(LOCK_RETRY_MS, this.stopping.signal);
      } catch {
        throw new ZartError("store_unavailable", "The engine is stopping; the prune did not run");
      }
    }
  }

  /** Ends the round in flight after its current batch and stops the background rounds. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.background;
    await this.tail;
  }

  /** Resolves once no background round is running (tests on a ManualClock: advance, then await this). */
  async settled(): Promise<void> {
    while (this.background !== null) await this.background;
  }

  private runBackground(olderThanMs: number): void {
    this.cancelTimer = null;
    this.background = this.round(olderThanMs)
      .then((outcome) => {
        if (!outcome.ran) this.deps.logger.debug("another process is pruning; this one waits for its next round");
      })
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, "prune round failed; the next round goes on from there"))
      .finally(() => {
        this.background = null;
        if (this.stopping.signal.aborted) return;
        this.cancelTimer = this.deps.clock.setTimer(this.deps.retention.everyMs, () => this.runBackground(olderThanMs));
      });
  }

  private round(olderThanMs: number): Promise<PruneOutcome> {
    const run = this.tail.then(() => this.runRound(olderThanMs));
    this.tail = run.catch(() => {});
    return run;
  }

  private async runRound(olderThanMs: number): Promise<PruneOutcome> {
    const { store, clock, logger, metrics, holder, retention } = this.deps;
    if (this.stopping.signal.aborted) return { ran: true, pruned: 0 };
    const started = performance.now();
    const completedBefore = clock.now() - olderThanMs;
    let batchStarted = started;
    const outcome = await store.pruneExecutions({
      completedBefore,
      batchSize: retention.batchSize,
      holder,
      now: () => clock.now(),
      afterBatch: async (deleted) => {
        if (deleted > 0) {
          metrics.pruned?.(deleted);
          this.deps.onPruned();
        }
        if (this.stopping.signal.aborted) return false;
        // A yield to other writers, not a time the engine keeps: real time, not the engine's clock.
        await delay(Math.min(MAX_PAUSE_MS, performance.now() - batchStarted));
        batchStarted = performance.now();
        return !this.stopping.signal.aborted;
      },
    });
    if (outcome.ran && outcome.pruned > 0) {
      const ms = Math.round(performance.now() - started);
      logger.info({ pruned: outcome.pruned, completedBefore: new Date(completedBefore).toISOString(), ms }, "pruned finished executions");
    }
    return outcome;
  }
}
