/**
 * An OpenTelemetry SDK registered for a test file, as an application would register one: the
 * AsyncLocalStorage context manager and a tracer provider that exports every ended span at once, here
 * into memory.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

export interface RegisteredSdk {
  exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  unregister(): Promise<void>;
}

export function registerSdk(): RegisteredSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async unregister() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
