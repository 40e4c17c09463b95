/**
 * The only body parser: `application/json` (any parameters). Every other media type gets 415 from
 * fastify before the body is read; the size limit (413) applies while reading; then JSON syntax
 * (400). The raw text is kept on the request because event payloads are stored exactly as sent.
 */
import type { FastifyInstance } from "fastify";
import { ZartError } from "../core/errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The raw JSON body text. */
    bodyText: string | undefined;
  }
}

export function registerJsonBody(app: FastifyInstance): void {
  app.decorateRequest("bodyText", undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body as string;
    request.bodyText = text;
    // An empty body is no body (events read it as the payload null; schedule rejects it as data).
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ZartError("invalid_json", `Request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}
