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
  let made: Logger | undefined;
  const real = (): Logger => {
    made ??= parent.child(bindings);
    return made;
  };
  // Rest arguments keep each call's arity: pino reads a second argument as a format argument.
  return {
    debug: (...args: [obj: object | string, msg?: string]) => real().debug(...args),
    info: (...args: [obj: object | string, msg?: string]) => real().info(...args),
    warn: (...args: [obj: object | string, msg?: string]) => real().warn(...args),
    error: (...args: [obj: object | string, msg?: string]) => real().error(...args),
    child: (more) => lazyChild(real(), more),
  };
}
