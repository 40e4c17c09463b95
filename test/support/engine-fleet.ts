/**
 * Several engines on one store's database, as separate processes would run them (each opens its own
 * store), sharing one clock; `stop()` stops the engines, then closes their stores.
 */
import type { Clock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/logger.js";
import { Engine } from "../../src/engine/engine.js";
import type { Store } from "../../src/store/store.js";

export type EngineStartOptions = Partial<Parameters<typeof Engine.start>[0]>;

export function engineFleet(open: () => Promise<Store>, clock: Clock) {
  const stores: Store[] = [];
  const engines: Engine[] = [];
  return {
    async start(options: EngineStartOptions): Promise<Engine> {
      const store = await open();
      stores.push(store);
      const engine = await Engine.start({ store, clock, logger: silentLogger, tasks: [], ...options });
      engines.push(engine);
      return engine;
    },
    async stop(): Promise<void> {
      for (const engine of engines) await engine.stop();
      for (const store of stores) await store.close();
    },
  };
}
