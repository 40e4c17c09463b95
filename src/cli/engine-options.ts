import type { Logger } from "../core/logger.js";
import type { ScheduleDefinition } from "../core/schedule.js";
import type { TaskDefinition } from "../core/task.js";
import type { EngineOptions } from "../engine/engine-options.js";
import type { EngineMetrics } from "../engine/metrics.js";
import type { OpenStoreOptions } from "../store/open-store.js";
import type { Store } from "../store/store.js";
import type { ResolvedConfig } from "./resolve-config.js";

export interface EngineParts {
  store: Store;
  tasks: readonly TaskDefinition[];
  /** Left out: code schedules in the store are left alone (an API-only server hosts none). */
  schedules: readonly ScheduleDefinition[] | undefined;
  logger: Logger;
  metrics: EngineMetrics;
}

/** The engine's options for `zart serve` and `zart worker`, from the resolved configuration; `runsWorker: false` is API only. */
export function engineOptions(config: ResolvedConfig, parts: EngineParts, runsWorker: boolean): EngineOptions {
  const { worker } = config;
  return {
    ...parts,
    maxPayloadBytes: config.maxPayloadBytes,
    retention: config.retentionMs === null ? false : { olderThan: config.retentionMs },
    worker: runsWorker
      ? {
          concurrency: worker.concurrency,
          leaseMs: worker.leaseMs,
          shutdownGraceMs: worker.shutdownGraceMs,
          safetyPollMs: worker.safetyPollMs ?? undefined,
        }
      : false,
  };
}

/** The store's options for `zart serve` and `zart worker`, from the resolved configuration. */
export function storeOptions(config: ResolvedConfig, logger: Logger): OpenStoreOptions {
  return { logger, maxQueuedInserts: config.maxQueuedInserts, idleInTransactionMs: config.idleInTransactionMs };
}
