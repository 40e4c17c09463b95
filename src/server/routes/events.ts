/** Event delivery: `POST /api/v1/events/:id/:event_name`; the raw body text is the payload. */
import type { FastifyInstance } from "fastify";
import type { ZartApi } from "../../engine/api.js";
import { described, EventBody, EventParams, EventResponse, errorCodes } from "../schemas.js";

export function eventRoutes(app: FastifyInstance, api: ZartApi): void {
  app.post<{ Params: EventParams }>(
    "/api/v1/events/:id/:event_name",
    {
      schema: {
        summary: "Deliver an event to a waiting execution",
        operationId: "sendEvent",
        tags: ["events"],
        params: EventParams,
        body: EventBody,
        response: {
          200: described(EventResponse, "Delivered"),
          202: described(EventResponse, 'Buffered: no wait for it yet, and the task keeps such events (`events: "buffered"`)'),
          ...errorCodes(
            "invalid_json",
            "invalid_request",
            "payload_too_large",
            "unsupported_media_type",
            "execution_not_found",
            "not_waiting_for_event",
            "invalid_data",
          ),
        },
      },
    },
    async (request, reply) => {
      const { id, event_name } = request.params;
      // The text the client sent is stored as is (already checked to be JSON by the body parser);
      // an empty body is the payload null.
      const text = request.bodyText;
      const payloadJson = text === undefined || text.trim() === "" ? "null" : text;
      const status = await api.deliverEvent(id, event_name, payloadJson);
      return reply.code(status === "buffered" ? 202 : 200).send({ status, execution_id: id, event_name });
    },
  );
}
