/**
 * `zart worker`: runs executions of the given tasks. With `--http-port` it also serves /healthz,
 * /readyz and /metrics (no API) for probes and Prometheus; otherwise it opens no port at all.
 */
import { Engine } from "../engine/engine.js";
import { buildServer, type ZartServer } from "../server/app.js";
import { ServerMetrics } from "../server/metrics.js";
import { openStore } from "../store/open-store.js";
import { engineOptions, storeOptions } from "./engine-options.js";
import { formatDuration } from "./format/time.js";
import { loadTaskModules } from "./load-tasks.js";
import { createLogger } from "./logger.js";
import { guardProcess } from "./process-guards.js";
import { assertSafeBind, type ResolvedConfig } from "./resolve-config.js";
import { onShutdownSignal } from "./signals.js";

export async function runWorker(config: ResolvedConfig): Promise<void> {
  if (config.worker.httpPort !== null) assertSafeBind(config);
  const loaded = await loadTaskModules(config.tasks);
  const { logger, flush } = createLogger(config.logLevel);
  guardProcess(logger);
  const store = await openStore(config.database, storeOptions(config, logger));
  const metrics = new ServerMetrics();
  const engine = await Engine.start(
    engineOptions(config, { store, tasks: loaded.tasks, schedules: loaded.schedules, logger, metrics }, true),
  );
  let http: ZartServer | null = null;
  let url = "";
  if (config.worker.httpPort !== null) {
    http = await buildServer(
      engine,
      { tokens: config.tokens, bodyLimit: config.bodyLimitBytes, metricsPublic: config.metricsPublic, api: false },
      logger,
      metrics,
    );
    try {
      url = await http.app.listen({ host: config.host, port: config.worker.httpPort });
    } catch (error) {
      // The worker may have claimed executions already (the port is taken, say): hand them back before exiting.
      await engine.stop();
      await store.close();
      flush();
      throw error;
    }
  }
  // One write, so whoever reads the banner gets it whole.
  console.log(
    [
      `zart worker running (concurrency ${config.worker.concurrency})`,
      `  store:  ${store.kind} ${store.description}`,
      `  tasks:  ${loaded.tasks.map((t) => t.name).join(", ")} (${loaded.sources.join(", ")})`,
      ...(loaded.schedules.length > 0
        ? [`  cron:   ${loaded.schedules.map((s) => s.schedule_id).join(", ")} (schedules declared in code)`]
        : []),
      ...(http ? [`  http:   ${url} (/healthz, /readyz, /metrics)`] : []),
      ...(config.retentionMs === null
        ? []
        : [`  retain: ${formatDuration(config.retentionMs)} after an execution ends (older ones are pruned)`]),
    ].join("\n"),
  );
  onShutdownSignal(config.worker.shutdownGraceMs, async (signal) => {
    console.log(`zart worker: ${signal} received, draining`);
    await http?.close();
    await engine.stop();
    await store.close();
    console.log("zart worker: stopped");
    flush();
  });
}
