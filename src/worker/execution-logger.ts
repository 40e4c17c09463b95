/**
 * `ctx.log`: the execution's logger (execution id and task), which inside a step also names the step.
 * A line cannot tell which of several parallel steps issued it without async context tracking, which the
 * run path never uses (docs/decisions/015-no-async-context-tracking.md), so lines carry the step while
 * exactly one step attempt runs, and only the execution otherwise.
 * `step.log` (the step function's own argument) always names its step, in parallel steps too.
 */
import { type Logger, lazyChild } from "../core/logger.js";

type LogArgs = [obj: object | string, msg?: string];

export class ExecutionLogger implements Logger {
  /** Created on the first step attempt: most runs of short workflows never log. */
  private running: Set<Logger> | null = null;
  private current: Logger;

  constructor(private readonly base: Logger) {
    this.current = base;
  }

  /** The logger a step's attempts receive as `step.log`. */
  forStep(name: string): Logger {
    return lazyChild(this.base, { step: name });
  }

  /** Marks one attempt of a step as running until the returned function is called. */
  enter(stepLog: Logger): () => void {
    this.running ??= new Set();
    const running = this.running;
    running.add(stepLog);
    this.refresh(running);
    return () => {
      running.delete(stepLog);
      this.refresh(running);
    };
  }

  private refresh(running: Set<Logger>): void {
    const [only] = running;
    this.current = running.size === 1 && only ? only : this.base;
  }

  debug(...args: LogArgs): void {
    this.current.debug(...args);
  }
  info(...args: LogArgs): void {
    this.current.info(...args);
  }
  warn(...args: LogArgs): void {
    this.current.warn(...args);
  }
  error(...args: LogArgs): void {
    this.current.error(...args);
  }
  child(bindings: Record<string, unknown>): Logger {
    return this.current.child(bindings);
  }
}
