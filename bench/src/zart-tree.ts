/**
 * The Zart a probe compares: `ZART_ROOT` (default: this repository), either a checkout (TypeScript,
 * loaded through tsx) or a tree compiled by compile-tree.ts (JavaScript). Used by the probes that run
 * two commits alternately (probe-tree-ab.ts, probe-pg-plans-on-growth.ts).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const root = resolve(process.env.ZART_ROOT ?? join(import.meta.dirname, "../.."));
const ext = existsSync(join(root, "src/engine/engine.ts")) ? "ts" : "js";

export const { defineTask } = await import(join(root, `src/core/task.${ext}`));
export const { Engine } = await import(join(root, `src/engine/engine.${ext}`));
export const { openStore } = await import(join(root, `src/store/open-store.${ext}`));
