/**
 * The order in which a run's `ctx` calls settle, made the same on every replay. `Promise.race` (or any
 * code that reacts to whichever call settles first) must see the winner it saw the first time, also when
 * the loser's result was recorded later: an event delivered to the losing wait of a race, or the slower
 * step of a race between steps.
 *
 * A final record's place is (run that first saw it final, completion time, seq); see StepRecord.settledIn.
 * A call whose outcome is known settles through a queue, one per macrotask, smallest place first, so
 * every call the settled one lets the workflow reach is queued before the next choice. A record this run
 * makes is stamped after every one already settled (`stamp`), so an outcome that arrives later sorts
 * later, and records from outside (events, children's ends) belong to the run after the one they arrived
 * in. A replay therefore makes the same choices: at each choice the calls ready are the first run's, plus
 * records that run had not seen yet, which sort after its choice.
 *
 * An outcome of work done now (a step that ran, a child just started) settles at once when nothing is
 * queued: it is the only candidate, and its continuation follows without a hop.
 */

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface Place {
  run: number;
  time: number;
  seq: number;
}

interface Queued {
  place: Place;
  settle(): void;
}

const before = (a: Place, b: Place): boolean => (a.run !== b.run ? a.run < b.run : a.time !== b.time ? a.time < b.time : a.seq < b.seq);

export class SettleOrder {
  /** The latest completion time settled in this run. */
  private last = Number.NEGATIVE_INFINITY;
  private readonly queue: Queued[] = [];
  private scheduled = false;

  /** `run`: this run's lease token. */
  constructor(
    readonly run: number,
    private readonly now: () => number,
  ) {}

  /** Whether recorded outcomes still wait for their turn. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** The completion time of a record made now: the clock's, but after every one settled in this run. */
  stamp(): number {
    return Math.max(this.now(), this.last + 1);
  }

  /** Settles `outcome` at `place`: queued, or at once (`eager`) when nothing is queued; then returns the value itself. */
  settle<T>(place: Place, outcome: Outcome<T>, eager: boolean): T | Promise<T> {
    if (eager && this.queue.length === 0) {
      this.settled(place);
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ place, settle: () => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)) });
      this.schedule();
    });
  }

  private settled(place: Place): void {
    if (place.run >= this.run) this.last = Math.max(this.last, place.time);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      let first = 0;
      this.queue.forEach((q, i) => {
        if (before(q.place, (this.queue[first] as Queued).place)) first = i;
      });
      const [next] = this.queue.splice(first, 1) as [Queued];
      this.settled(next.place);
      next.settle();
      if (this.queue.length > 0) this.schedule();
    });
  }
}
