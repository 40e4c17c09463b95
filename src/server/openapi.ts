/** @fastify/swagger options: the OpenAPI document is generated from the route schemas themselves. */
import type { SwaggerOptions } from "@fastify/swagger";

export function openApiOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Zart HTTP API",
        version: "1.0.0",
        description:
          'Durable executions: schedule, inspect, wait for, cancel, and send events. Errors: `{ "error": { "code", "message" } }`.',
      },
      servers: [{ url: "/" }],
      components: {
        securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "Required when the server has tokens configured" } },
      },
      tags: [{ name: "executions" }, { name: "events" }, { name: "ops" }],
    },
    // Name shared schemas by their $id so references read `#/components/schemas/ErrorResponse`.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
  };
}
