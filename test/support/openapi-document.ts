/** The OpenAPI document a server with the given configuration serves, built in-process on an in-memory API. */
import assert from "node:assert/strict";
import pino from "pino";
import type { ScheduleApi } from "../../src/engine/schedules/schedule-api.js";
import { buildServer } from "../../src/server/app.js";
import { MemoryApi } from "./memory-api.js";

/** The schedule routes are registered when the API has schedules; building the document never calls them. */
const unused = () => Promise.reject(new Error("not called while the document is built"));
const schedules: ScheduleApi = { create: unused, list: unused, get: unused, delete: unused, pause: unused, resume: unused };

export async function openApiDocument(options: { tokens?: string[]; metricsPublic?: boolean } = {}): Promise<Record<string, unknown>> {
  const tokens = options.tokens ?? [];
  const server = await buildServer(
    Object.assign(new MemoryApi({ echo: null }), { schedules }),
    { tokens, bodyLimit: 1024 * 1024, metricsPublic: options.metricsPublic ?? false },
    pino({ level: "silent" }),
  );
  try {
    const headers: Record<string, string> = tokens.length > 0 ? { authorization: `Bearer ${tokens[0]}` } : {};
    const r = await server.app.inject({ method: "GET", url: "/api/v1/openapi.json", headers });
    assert.equal(r.statusCode, 200);
    return r.json() as Record<string, unknown>;
  } finally {
    await server.close();
  }
}
