import type { Clock } from "../core/clock.js";
import type { Duration } from "../core/duration.js";
import type { Logger } from "../core/logger.js";
import type { ScheduleDefinition } from "../core/schedule.js";
import type { TaskDefinition } from "../core/task.js";
import type { Store } from "../store/store.js";
import type { EngineMetrics } from "./metrics.js";

export interface WorkerOptions {
  /** Executions run at once by this process. Default 50. */
  concurrency?: number;
  /**
   * Executions claimed beyond the free slots in the same round trip and held, under lease, in a local
   * buffer until a slot frees (like graphile-worker's local queue). Raises throughput for short
   * executions; a prefetched execution already shows `running` (and its `started_at`) while it waits
   * in the buffer, and other workers cannot take it until it is released or its lease expires.
   * Default "auto": up to `concurrency` more while this worker's recent runs are short (their code took
   * under 10 ms on average) and there is a backlog, so the buffer waits milliseconds at most; none when
   * runs are long. A number fixes the size; 0 turns it off.
   * Why: docs/decisions/003-prefetch-and-settling-slots.md.
   */
  prefetch?: number | "auto";
  /**
   * `schedule()` in a process that runs the task starts the execution right here when a slot is free and
   * no claimable backlog is known: the row is inserted already claimed by this worker, which saves the
   * claim round trip and the notice hop. It then starts as `running`, or, when the run ends without a step
   * before its insert is written, is inserted already finished (worker/held-write.ts). A request's own
   * `eager` overrides this. Why: docs/decisions/007-eager-start-and-resume.md.
   * Under a burst it starts one execution per free slot and queues the rest; inserts made together share
   * statements either way. `POST /executions` follows it (docs/decisions/046-shared-eager-inserts.md).
   * Default true.
   */
  eagerStart?: boolean;
  /** Lease length; renewed every third of it while running. Default 30 s. */
  leaseMs?: number;
  /** Slow safety poll that catches anything a notice missed. Default 5 s (SQLite: 1 s across processes). */
  safetyPollMs?: number;
  /** On stop: how long running executions may keep going before they are released. Default 10 s. */
  shutdownGraceMs?: number;
  /** Step backoffs up to this long wait in place; longer ones park the execution in `waiting`. Default 2 s. */
  inPlaceBackoffMaxMs?: number;
}

export interface EngineOptions {
  store: Store;
  /** Tasks this process can run. An engine with no tasks (or `worker: false`) only serves the API. */
  tasks?: readonly TaskDefinition[];
  clock?: Clock;
  /** Engine warnings and `ctx.log` lines. Default: pino JSON lines on stderr at level info (pass `silentLogger` to drop them). */
  logger?: Logger;
  /** `false`: API only (no claiming). */
  worker?: false | WorkerOptions;
  /** Largest data / result / output / payload in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Identifies this process in leases and task registrations. Default: host-pid-random. */
  workerId?: string;
  /** Run store migrations on start. Default true. */
  migrate?: boolean;
  /** Metrics sink (the server plugs prom-client in). */
  metrics?: EngineMetrics;
  /** Random source for backoff jitter (tests make it fixed). Default Math.random. */
  random?: () => number;
  /**
   * Cron schedules declared in code (`defineSchedule`), each for one of `tasks`. Given (even empty), this
   * engine is the authority on the code schedules of its tasks: at start it stores these and deletes the
   * code schedules of its tasks it no longer declares (docs/schedules.md). Left out, code schedules are
   * left alone.
   */
  schedules?: readonly ScheduleDefinition[];
  /**
   * Fire schedule ticks in this process. Default on, with `pollMs` (how long at most between looks at the
   * schedules, so changes made by other processes are seen) defaulting to the safety poll. Any number of
   * processes may fire: each tick still starts one execution.
   */
  scheduler?: false | { pollMs?: number };
  /**
   * Retention (docs/retention.md): delete `completed`, `failed` and `cancelled` executions whose
   * `completed_at` is older than `olderThan` (e.g. `"30d"`), with their steps, attempts and events, in the
   * background: a round at start, then one `every` (default 1 minute) after the previous ended, in batches
   * of `batchSize` executions per transaction (default 500, also used by `engine.prune`). Any number of
   * processes may have it on: the store runs one round at a time. A duration alone is `{ olderThan }`.
   * Default off (nothing is ever deleted).
   */
  retention?: false | Duration | RetentionOptions;
}

export interface RetentionOptions {
  /** Left out: no background rounds (`batchSize` still applies to `engine.prune`). */
  olderThan?: Duration;
  every?: Duration;
  batchSize?: number;
}
