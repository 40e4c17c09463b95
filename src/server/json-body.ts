/**
 * The only body parser: `application/json` (any parameters). Every other media type gets 415 from
 * fastify before the body is read; then the size limit (413); then JSON syntax (400). The raw text is
 * kept on the request because event payloads are stored exactly as sent.
 *
 * A body over the limit is still read to its end (and thrown away) before the 413 is sent: a client
 * such as Node's fetch writes the whole body before it reads the answer, and a server that hangs up
 * first leaves it with EPIPE instead of the 413. Past {@link drainLimit} bytes (declared or received)
 * the server stops reading and closes the connection after answering, so nobody can keep it reading.
 */
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { ZartError } from "../core/errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The raw JSON body text. */
    bodyText: string | undefined;
  }
}

const MIB = 1024 * 1024;

/** How much of an oversized body is read and discarded before the server hangs up instead. */
export function drainLimit(bodyLimit: number): number {
  return Math.max(64 * MIB, 4 * bodyLimit);
}

/** A 413 whose response must close the connection (the rest of the body is not read). */
export function isClosingError(error: unknown): boolean {
  return error instanceof BodyTooLargeError && error.closeConnection;
}

class BodyTooLargeError extends ZartError {
  constructor(readonly closeConnection: boolean) {
    super("payload_too_large", "Request body is larger than the configured limit");
  }
}

function readBody(stream: Readable, limit: number, declaredLength: number): Promise<string> {
  const drainMax = drainLimit(limit);
  if (declaredLength > drainMax) return Promise.reject(new BodyTooLargeError(true));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) chunks.push(chunk);
      else chunks = [];
      if (received > drainMax) {
        stream.removeListener("data", onData);
        stream.removeListener("end", onEnd);
        reject(new BodyTooLargeError(true));
      }
    };
    const onEnd = () => {
      if (received > limit) return reject(new BodyTooLargeError(false));
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks, received).toString("utf8"));
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", reject);
  });
}

export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.decorateRequest("bodyText", undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", (request, payload, done) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    readBody(payload, bodyLimit, Number.isFinite(declared) ? declared : 0).then(
      (text) => {
        request.bodyText = text;
        // An empty body is no body (events read it as the payload null; schedule rejects it as data).
        if (text.trim() === "") return done(null, undefined);
        try {
          done(null, JSON.parse(text));
        } catch (error) {
          done(new ZartError("invalid_json", `Request body is not valid JSON: ${(error as Error).message}`), undefined);
        }
      },
      (error: Error) => done(error, undefined),
    );
  });
}
