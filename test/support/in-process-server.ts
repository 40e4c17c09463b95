/**
 * A real HTTP server in the test's own process: the engine on a store the test chose (PostgreSQL or
 * SQLite), served by the same app as `zart-server`, on a free loopback port. For tests that need a store
 * other than the server process's default file.
 */
import pino from "pino";
import type { Engine } from "../../src/engine/engine.js";
import { buildServer, type ZartServer } from "../../src/server/app.js";

export async function serveInProcess(engine: Engine): Promise<{ api: string; server: ZartServer }> {
  const server = await buildServer(engine, { tokens: [], bodyLimit: 1024 * 1024, metricsPublic: false }, pino({ level: "silent" }));
  const url = await server.app.listen({ host: "127.0.0.1", port: 0 });
  return { api: `${url}/api/v1`, server };
}
