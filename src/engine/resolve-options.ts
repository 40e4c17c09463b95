/** Turns user options into one fully resolved, read-only object, once, at the edge. */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Clock, systemClock } from "../core/clock.js";
import { toMs } from "../core/duration.js";
import type { Logger } from "../core/logger.js";
import type { ScheduleDefinition } from "../core/schedule.js";
import { isStorableText, STORABLE_TEXT_RULE } from "../core/stored-text.js";
import { describeValue, isTaskDefinition, type TaskDefinition } from "../core/task.js";
import type { Store } from "../store/store.js";
import type { ResolvedWorkerOptions } from "../worker/worker-deps.js";
import { defaultLogger } from "./default-logger.js";
import type { EngineOptions } from "./engine-options.js";
import { type EngineMetrics, noMetrics } from "./metrics.js";
import type { ResolvedRetention } from "./pruning.js";

export interface ResolvedEngineOptions {
  readonly store: Store;
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly worker: (ResolvedWorkerOptions & { inPlaceBackoffMaxMs: number }) | null;
  readonly maxPayloadBytes: number;
  readonly workerId: string;
  readonly migrate: boolean;
  readonly metrics: EngineMetrics;
  readonly random: () => number;
  /** How often long-poll waiters and the idle worker re-check the store when no notice arrives. */
  readonly safetyPollMs: number;
  /** The code's schedules; null when the engine was given none (code schedules are then left alone). */
  readonly schedules: readonly ScheduleDefinition[] | null;
  readonly scheduler: { pollMs: number } | null;
  readonly retention: ResolvedRetention;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return resolved;
}

export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  const tasks = new Map<string, TaskDefinition>();
  for (const [place, task] of (options.tasks ?? []).entries()) {
    if (!isTaskDefinition(task)) throw new TypeError(`tasks[${place}] is ${describeValue(task)}, not a task made with defineTask`);
    if (tasks.has(task.name)) throw new Error(`Task "${task.name}" is defined twice`);
    tasks.set(task.name, task);
  }
  // A store that cannot push notices to other processes relies more on this poll; one that can (PostgreSQL
  // LISTEN/NOTIFY) only needs a slow safety net.
  const defaultPoll = options.store.capabilities.crossProcessNotices ? 5000 : 1000;
  const worker = options.worker === false || tasks.size === 0 ? null : (options.worker ?? {});
  const safetyPollMs = positiveInt(worker?.safetyPollMs, defaultPoll, "worker.safetyPollMs");
  return {
    store: options.store,
    tasks,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? defaultLogger(),
    worker: worker && {
      concurrency: positiveInt(worker.concurrency, 50, "worker.concurrency"),
      prefetch: resolvePrefetch(worker.prefetch),
      eagerStart: worker.eagerStart ?? true,
      leaseMs: positiveInt(worker.leaseMs, 30_000, "worker.leaseMs"),
      safetyPollMs,
      shutdownGraceMs: worker.shutdownGraceMs ?? 10_000,
      inPlaceBackoffMaxMs: worker.inPlaceBackoffMaxMs ?? 2000,
    },
    maxPayloadBytes: positiveInt(options.maxPayloadBytes, 1024 * 1024, "maxPayloadBytes"),
    workerId: resolveWorkerId(options.workerId),
    migrate: options.migrate ?? true,
    metrics: options.metrics ?? noMetrics,
    random: options.random ?? Math.random,
    safetyPollMs,
    schedules: resolveSchedules(options.schedules),
    scheduler: options.scheduler === false ? null : { pollMs: positiveInt(options.scheduler?.pollMs, safetyPollMs, "scheduler.pollMs") },
    retention: resolveRetention(options.retention),
  };
}

/** Written into leases and registrations and compared there, so as names and keys are (core/stored-text.ts). */
function resolveWorkerId(workerId: string | undefined): string {
  if (workerId === undefined) return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  if (typeof workerId !== "string" || workerId.length === 0 || workerId.length > 255 || !isStorableText(workerId)) {
    throw new RangeError(`workerId must be a string of 1 to 255 characters ${STORABLE_TEXT_RULE}, got ${JSON.stringify(workerId)}`);
  }
  return workerId;
}

/** A round a minute, 500 executions a transaction: docs/decisions/009-retention-pruning.md. */
function resolveRetention(retention: EngineOptions["retention"]): ResolvedRetention {
  const given =
    retention === undefined || retention === false ? null : typeof retention === "object" ? retention : { olderThan: retention };
  const olderThanMs = given?.olderThan === undefined ? null : toMs(given.olderThan);
  if (olderThanMs !== null && olderThanMs <= 0)
    throw new RangeError(`retention.olderThan must be positive, got ${String(given?.olderThan)}`);
  const everyMs = given?.every === undefined ? 60_000 : toMs(given.every);
  if (everyMs <= 0) throw new RangeError(`retention.every must be positive, got ${String(given?.every)}`);
  return { olderThanMs, everyMs, batchSize: positiveInt(given?.batchSize, 500, "retention.batchSize") };
}

function resolveSchedules(schedules: readonly ScheduleDefinition[] | undefined): readonly ScheduleDefinition[] | null {
  if (schedules === undefined) return null;
  const ids = new Set<string>();
  for (const schedule of schedules) {
    if (ids.has(schedule.schedule_id)) throw new Error(`Schedule "${schedule.schedule_id}" is defined twice`);
    ids.add(schedule.schedule_id);
  }
  return schedules;
}

/** "auto" (the default), 0 (off) or a positive number of rows. */
function resolvePrefetch(prefetch: number | "auto" | undefined): number | "auto" {
  if (prefetch === undefined || prefetch === "auto") return "auto";
  return prefetch === 0 ? 0 : positiveInt(prefetch, 0, "worker.prefetch");
}
