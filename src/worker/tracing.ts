/**
 * OpenTelemetry spans of a run, through `@opentelemetry/api` only: a no-op until the application registers
 * an SDK. Each run of an execution (a claim, an eager start or resume) is one span `zart.execution <task>`,
 * a child of the `traceparent` the execution was created under (so the trace continues on whichever worker
 * runs it) or the root of a new trace; each attempt of a step that runs for real is a span
 * `zart.step <name>` under it, and the task's code and the step functions run with those spans active, so
 * spans the application makes there nest under them.
 *
 * Cost when nothing records: one non-recording span and one context per run, and one boolean test per
 * step attempt (steps are traced only under a recording run span): docs/decisions/012-opentelemetry-cost.md.
 */
import { type Context, context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { toError } from "../core/errors.js";
import { parseTraceparent } from "../core/trace-context.js";
import type { ErrorInfo, ExecutionRecord } from "../core/types.js";

const TRACER = "zart";

/** Span attribute names. */
const ATTRIBUTES = {
  executionId: "zart.execution.id",
  task: "zart.task",
  /** The execution attempt on a run span, the step attempt on a step span. */
  attempt: "zart.attempt",
  /** How the run ended (completed, failed, parked, requeued, aborted) or the step attempt (completed, failed). */
  status: "zart.status",
  step: "zart.step.name",
} as const;

type Failure = Error | ErrorInfo;

export class RunTrace {
  /** The context the task's code runs in: the run span active. */
  readonly context: Context;
  private readonly span: Span;
  private readonly recording: boolean;
  private errorRecorded = false;
  private ended = false;

  constructor(private readonly execution: ExecutionRecord) {
    const stored = execution.traceparent === null ? null : parseTraceparent(execution.traceparent);
    // Never the context active here: a claim loop woken from inside some request must not join its trace.
    const parent = stored === null ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, stored);
    this.span = trace.getTracer(TRACER).startSpan(
      `zart.execution ${execution.task}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTRIBUTES.executionId]: execution.id,
          [ATTRIBUTES.task]: execution.task,
          [ATTRIBUTES.attempt]: execution.attempt,
        },
      },
      parent,
    );
    this.recording = this.span.isRecording();
    this.context = trace.setSpan(parent, this.span);
  }

  /** Runs the task's code with the run span active. */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /** Records the run's failure on its span (the first one reported: the error that escaped, or the recorded one). */
  fail(error: Failure): void {
    if (this.errorRecorded || this.ended) return;
    this.errorRecorded = true;
    recordFailure(this.span, error);
  }

  /** Ends the run span with how the run ended; later calls do nothing. */
  end(status: string): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute(ATTRIBUTES.status, status);
    this.span.end();
  }

  /** A step attempt's span, or null when the run is not recorded (its steps are not either). */
  step(name: string, attempt: number): StepTrace | null {
    if (!this.recording) return null;
    const span = trace.getTracer(TRACER).startSpan(
      `zart.step ${name}`,
      {
        attributes: {
          [ATTRIBUTES.executionId]: this.execution.id,
          [ATTRIBUTES.task]: this.execution.task,
          [ATTRIBUTES.step]: name,
          [ATTRIBUTES.attempt]: attempt,
        },
      },
      this.context,
    );
    return new StepTrace(span, trace.setSpan(this.context, span));
  }
}

/** One step attempt's span. */
class StepTrace {
  private ended = false;

  constructor(
    private readonly span: Span,
    private readonly context: Context,
  ) {}

  /** Runs the step's function with this span active. */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /** Ends the span: completed, or failed with its error recorded. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error === undefined) this.span.setAttribute(ATTRIBUTES.status, "completed");
    else {
      this.span.setAttribute(ATTRIBUTES.status, "failed");
      recordFailure(this.span, toError(error));
    }
    this.span.end();
  }
}

/**
 * Exports the spans the registered SDK still holds (a batching processor keeps them for seconds), waiting at
 * most `timeoutMs`. `zart-server` and `zart worker` call it after draining, before they exit: the spans of
 * the runs that ended while draining would otherwise be lost. Nothing to do without an SDK.
 */
export async function flushTraces(timeoutMs: number): Promise<void> {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (global.getDelegate?.() ?? global) as { forceFlush?: () => Promise<void> };
  if (typeof provider.forceFlush !== "function") return;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([provider.forceFlush().catch(() => {}), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function recordFailure(span: Span, error: Failure): void {
  span.recordException({ name: error.name, message: error.message, stack: error.stack, code: (error as { code?: string }).code });
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
