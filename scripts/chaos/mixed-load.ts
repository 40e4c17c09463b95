/**
 * The steady mixed load of a chaos run: executions of every kind started at a fixed rate through the
 * careful client, each POST with its own idempotency key. An event execution is followed until it parks
 * on its wait, then its event is delivered (a repeat after a lost answer gets 409 once the first delivery
 * took: that is the API's one-event-per-wait rule, and the client then reads the execution to be sure).
 * Poison and slow (zombie bait) executions are started on demand by the faults.
 */
import { setTimeout as pause } from "node:timers/promises";
import type { CarefulClient } from "./careful-client.js";

export const KINDS = ["single", "chain", "sleep", "event", "flaky", "parent", "poison", "slow"] as const;
export type Kind = (typeof KINDS)[number];

/** The rate-driven kinds, in proportion (out of 10). */
const MIX: readonly Kind[] = ["single", "single", "single", "chain", "chain", "sleep", "event", "flaky", "parent", "chain"];

export interface Acknowledged {
  id: string;
  kind: Kind;
  i: number;
  key: string;
}

/** What a kind's execution must end with. */
export function expectedEnd(kind: Kind, i: number): { status: "completed"; output: number } | { status: "failed"; code: string } {
  switch (kind) {
    case "single":
      return { status: "completed", output: i * 2 };
    case "chain":
      return { status: "completed", output: (i + 1) * 2 - 1 };
    case "sleep":
      return { status: "completed", output: (i + 1) * 2 };
    case "event":
      return { status: "completed", output: i + 1 + eventAdd(i) };
    case "flaky":
      return { status: "completed", output: i * 3 };
    case "parent":
      return { status: "completed", output: i * 10 + (i + 1) * 10 };
    case "slow":
      return { status: "completed", output: i };
    case "poison":
      return { status: "failed", code: "worker_crashed" };
  }
}

const eventAdd = (i: number) => (i % 5) + 1;

export class MixedLoad {
  readonly acknowledged: Acknowledged[] = [];
  eventsDelivered = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private began = 0;
  private counter = 0;
  readonly errors: string[] = [];

  constructor(
    private readonly client: CarefulClient,
    private readonly ratePerSecond: number,
  ) {}

  start(): void {
    this.began = performance.now();
    this.timer = setInterval(() => this.tick(), 50);
  }

  /** Stops starting work and waits for every flow in flight (acknowledgements, event deliveries). */
  async stop(): Promise<void> {
    this.halt();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops starting work, without waiting. */
  halt(): void {
    clearInterval(this.timer);
  }

  /** Starts one execution of `kind` now (tracked like the rest); resolves with it once acknowledged. */
  startOne(kind: Kind, extra: Record<string, unknown> = {}): Promise<Acknowledged> {
    const flow = this.flow(kind, this.counter++, extra);
    this.track(flow.then(() => undefined));
    return flow;
  }

  private tick(): void {
    const target = Math.floor(((performance.now() - this.began) / 1000) * this.ratePerSecond);
    while (this.due < target) {
      const kind = MIX[this.due++ % MIX.length]!;
      void this.startOne(kind).catch(() => {}); // its failure is in `errors` (track)
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.errors.push((error as Error).message);
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private async flow(kind: Kind, i: number, extra: Record<string, unknown>): Promise<Acknowledged> {
    const key = `chaos-${kind}-${i}`;
    const reply = await this.client.send("POST", "/executions", { task: `chaos-${kind}`, data: { i, ...extra }, idempotency_key: key });
    if (reply.status !== 201 && reply.status !== 200) throw new Error(`POST ${key}: ${reply.status} ${JSON.stringify(reply.body)}`);
    const acknowledged: Acknowledged = { id: reply.body.execution_id as string, kind, i, key };
    this.acknowledged.push(acknowledged);
    if (kind === "event") void this.deliverWhenParked(acknowledged).catch((error: unknown) => this.errors.push((error as Error).message));
    return acknowledged;
  }

  /** Polls the execution (a short pause between reads) until it waits for `go`, then delivers it once. */
  private deliverWhenParked(execution: Acknowledged): Promise<void> {
    const delivery = (async () => {
      for (;;) {
        const seen = await this.client.send("GET", `/executions/${execution.id}`);
        if (seen.status !== 200) throw new Error(`GET ${execution.id}: ${seen.status}`);
        if (seen.body.status !== "waiting" || seen.body.waiting_for_event !== "go") {
          if (["completed", "failed", "cancelled"].includes(seen.body.status as string))
            throw new Error(`${execution.key} ended (${seen.body.status}) before its event was delivered`);
          await pause(300);
          continue;
        }
        const sent = await this.client.send("POST", `/events/${execution.id}/go`, { add: eventAdd(execution.i) });
        if (sent.status === 200) {
          this.eventsDelivered += 1;
          return;
        }
        // 409: not waiting (any more). Either an earlier try took after all, or it is not parked yet: read again.
        if (sent.status !== 409) throw new Error(`event for ${execution.key}: ${sent.status} ${JSON.stringify(sent.body)}`);
        const after = await this.client.send("GET", `/executions/${execution.id}`);
        if (after.body.waiting_for_event !== "go") {
          this.eventsDelivered += 1;
          return;
        }
      }
    })();
    this.track(delivery);
    return delivery;
  }
}
