/**
 * When the database was unreachable for the Zart processes (a restart, terminated connections, the black
 * hole): the only times a `503 store_unavailable` is an acceptable answer. A window stays open for a grace
 * period after the fault ends, for requests that were already waiting on a cut connection or in the
 * pool's connect timeout when it ended.
 */
export interface Outage {
  kind: string;
  start: number;
  end: number | null;
}

/** The pool's connect timeout (src/store/postgres/postgres-store.ts) plus a margin for a busy machine. */
const GRACE_MS = 20_000;

export class Outages {
  readonly windows: Outage[] = [];

  begin(kind: string): Outage {
    const outage: Outage = { kind, start: Date.now(), end: null };
    this.windows.push(outage);
    return outage;
  }

  end(outage: Outage): void {
    outage.end = Date.now();
  }

  /** Whether a request sent at `sentAt` and answered at `answeredAt` overlapped an outage (with its grace). */
  covers(sentAt: number, answeredAt: number): boolean {
    return this.windows.some((w) => sentAt <= (w.end ?? Number.POSITIVE_INFINITY) + GRACE_MS && answeredAt >= w.start);
  }
}
