/** `zart worker`: runs executions of the given tasks, with no HTTP server. */
import { Engine } from "../engine/engine.js";
import { openStore } from "../store/open-store.js";
import { loadTaskModules } from "./load-tasks.js";
import { createLogger } from "./logger.js";
import type { ResolvedConfig } from "./resolve-config.js";
import { onShutdownSignal } from "./signals.js";

export async function runWorker(config: ResolvedConfig): Promise<void> {
  const loaded = await loadTaskModules(config.tasks);
  const { logger, flush } = createLogger(config.logLevel);
  const store = await openStore(config.database, { logger });
  const engine = await Engine.start({
    store,
    tasks: loaded.tasks,
    logger,
    maxPayloadBytes: config.maxPayloadBytes,
    worker: {
      concurrency: config.worker.concurrency,
      leaseMs: config.worker.leaseMs,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      safetyPollMs: config.worker.safetyPollMs ?? undefined,
    },
  });
  console.log(`zart worker running (concurrency ${config.worker.concurrency})`);
  console.log(`  store:  ${store.kind} ${store.description}`);
  console.log(`  tasks:  ${loaded.tasks.map((t) => t.name).join(", ")} (${loaded.sources.join(", ")})`);
  onShutdownSignal(config.worker.shutdownGraceMs, async (signal) => {
    console.log(`zart worker: ${signal} received, draining`);
    await engine.stop();
    await store.close();
    console.log("zart worker: stopped");
    flush();
  });
}
