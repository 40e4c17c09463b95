/** The logging seam: pino satisfies it; library code never writes to the console. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * `parent.child(bindings)`, made on first use. Every run and every step gets a child logger, and most never
 * log: pino builds a child's serialized bindings at once, which cost a few percent of a short run's CPU.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyChild(parent, bindings);
}

type LogArgs = [obj: object | string, msg?: string];

// Rest arguments keep each call's arity: pino reads a second argument as a format argument.
class LazyChild implements Logger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  private real(): Logger {
    this.made ??= this.parent.child(this.bindings);
    return this.made;
  }

  debug(...args: LogArgs): void {
    this.real().debug(...args);
  }
  info(...args: LogArgs): void {
    this.real().info(...args);
  }
  warn(...args: LogArgs): void {
    this.real().warn(...args);
  }
  error(...args: LogArgs): void {
    this.real().error(...args);
  }
  child(more: Record<string, unknown>): Logger {
    return new LazyChild(this.real(), more);
  }
}
