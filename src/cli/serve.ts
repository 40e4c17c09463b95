/**
 * `zart serve` / `zart-server`: the HTTP API and the workers in one process. Prints where it
 * listens, the store, the tasks and whether auth is on; drains on SIGTERM/SIGINT and exits 0.
 */
import { Engine } from "../engine/engine.js";
import { buildServer } from "../server/app.js";
import { loadDashboardAssets } from "../server/dashboard-assets.js";
import { ServerMetrics } from "../server/metrics.js";
import { openStore } from "../store/open-store.js";
import { engineOptions, storeOptions } from "./engine-options.js";
import { formatDuration } from "./format/time.js";
import { loadTaskModules } from "./load-tasks.js";
import { createLogger } from "./logger.js";
import { guardProcess } from "./process-guards.js";
import { isLoopback, type ResolvedConfig } from "./resolve-config.js";
import { onShutdownSignal } from "./signals.js";

export async function serve(config: ResolvedConfig): Promise<void> {
  // An API-only server without --tasks hosts nothing: it learns tasks (and their input schemas) from
  // the workers' registrations in the store, so it never accepts work that no worker runs. The bundled
  // examples are only the default for a server that also runs them.
  const loaded =
    config.worker.enabled || config.tasks.length > 0
      ? await loadTaskModules(config.tasks)
      : { tasks: [], schedules: undefined, sources: ["learned from the workers' registrations"] };
  const { logger, flush } = createLogger(config.logLevel);
  guardProcess(logger);
  const store = await openStore(config.database, storeOptions(config, logger));
  const metrics = new ServerMetrics();
  const dashboard = loadDashboardAssets();
  const engine = await Engine.start(
    engineOptions(config, { store, tasks: loaded.tasks, schedules: loaded.schedules, logger, metrics }, config.worker.enabled),
  );
  const server = await buildServer(
    engine,
    { tokens: config.tokens, bodyLimit: config.bodyLimitBytes, metricsPublic: config.metricsPublic, dashboard },
    logger,
    metrics,
  );
  let url: string;
  try {
    url = await server.app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // The worker may have claimed executions already (the port is taken, say): hand them back before exiting.
    await engine.stop();
    await store.close();
    flush();
    throw error;
  }

  const names = loaded.tasks.map((t) => t.name).join(", ") || "none hosted here";
  let auth = "off (no token configured; listening on loopback only)";
  if (config.tokens.length > 0) auth = `on (${config.tokens.length} bearer token${config.tokens.length === 1 ? "" : "s"})`;
  else if (config.allowNonLoopback)
    auth = `OFF, and listening on ${config.host} (explicitly allowed): anyone who can reach it can use the API`;
  // One write, so whoever reads the banner gets it whole.
  console.log(
    [
      `zart-server listening on ${url}`,
      // fastify names a loopback URL for a wildcard address: say where the socket really listens.
      ...(isLoopback(config.host) ? [] : [`  bound:  ${config.host} (reachable from other machines)`]),
      `  store:  ${store.kind} ${store.description}`,
      `  tasks:  ${names} (${loaded.sources.join(", ")})`,
      ...(loaded.schedules?.length
        ? [`  cron:   ${loaded.schedules.map((s) => s.schedule_id).join(", ")} (schedules declared in code)`]
        : []),
      `  worker: ${config.worker.enabled ? `on (concurrency ${config.worker.concurrency})` : "off (API only)"}`,
      `  auth:   ${auth}`,
      ...(config.retentionMs === null
        ? []
        : [`  retain: ${formatDuration(config.retentionMs)} after an execution ends (older ones are pruned)`]),
      `  ui:     ${dashboard ? `${url}/` : "not served (no dashboard folder in this package)"}`,
    ].join("\n"),
  );

  onShutdownSignal(config.worker.shutdownGraceMs, async (signal) => {
    console.log(`zart-server: ${signal} received, draining`);
    await server.close();
    logger.info("http server closed; stopping the engine");
    await engine.stop();
    logger.info("engine stopped; closing the store");
    await store.close();
    console.log("zart-server: stopped");
    flush();
  });
}
