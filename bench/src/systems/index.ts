/**
 * Loads a system adapter by id. Imports are dynamic so that a run of Zart alone (the smoke test)
 * never loads a peer package: they live only in bench/node_modules, which the root install lacks.
 */
import type { BenchSystem } from "./types.js";

export const PEER_IDS = ["dbos", "graphile", "pgboss"] as const;
export const ZART_IDS = ["zart-pg", "zart-sqlite"] as const;
export const ALL_IDS: readonly string[] = [...ZART_IDS, ...PEER_IDS];

export async function loadSystem(id: string): Promise<BenchSystem> {
  switch (id) {
    case "zart-pg":
      return (await import("./zart.js")).zartSystem("postgres");
    case "zart-sqlite":
      return (await import("./zart.js")).zartSystem("sqlite");
    case "dbos":
      return (await import("./dbos.js")).dbosSystem;
    case "graphile":
      return (await import("./graphile.js")).graphileSystem;
    case "pgboss":
      return (await import("./pgboss.js")).pgbossSystem;
    default:
      throw new Error(`unknown system "${id}" (known: ${ALL_IDS.join(", ")})`);
  }
}
