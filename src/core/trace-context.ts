/**
 * W3C trace context (`traceparent`) in and out, through `@opentelemetry/api` only. An execution stores the
 * `traceparent` it was created under (the HTTP caller's header, or the span active around
 * `engine.schedule`), and each of its runs, on whichever worker, continues that trace (worker/tracing.ts).
 * Parsing and formatting are done here rather than by a registered propagator, so they work whether or
 * not the application set one up.
 */
import { isSpanContextValid, type SpanContext, trace } from "@opentelemetry/api";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

/**
 * A `traceparent` value's span context, or null when it is not a valid one. Per the W3C spec: lowercase
 * hex only, version `ff` is invalid, version `00` has exactly four fields, a later version may carry more
 * (they are ignored), and all-zero trace or parent ids are invalid.
 */
export function parseTraceparent(value: string): SpanContext | null {
  const match = TRACEPARENT.exec(value);
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined) || traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return null;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
}

/** The version-00 `traceparent` value of a span context. */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * A request's `traceparent` header as the execution stores it: normalised to version 00, or null when
 * absent or invalid (the W3C spec says an invalid one is ignored, and the trace starts anew).
 */
export function traceparentHeader(header: string | string[] | undefined): string | null {
  if (typeof header !== "string") return null;
  const context = parseTraceparent(header.trim());
  return context === null ? null : formatTraceparent(context);
}

/** The `traceparent` of the span active where this is called (none without a registered SDK). */
export function activeTraceparent(): string | null {
  const context = trace.getActiveSpan()?.spanContext();
  return context !== undefined && isSpanContextValid(context) ? formatTraceparent(context) : null;
}
