/**
 * Cost of one `applyTransition` call (decision 022): a create (an eager start's held insert) and a
 * completion, each 200,000 times, three rounds. Imports the engine from ZART_ROOT (default: this
 * repository), so two checkouts can be compared.
 *
 *   ZART_ROOT=/path/to/checkout npx tsx src/probe-apply.ts
 */
import { join, resolve } from "node:path";

const root = resolve(process.env.ZART_ROOT ?? join(import.meta.dirname, "../.."));
const { applyTransition } = await import(join(root, "src/state/apply.ts"));
const { TRANSITIONS } = await import(join(root, "src/state/transitions.ts"));

type Params = Record<string, string | number>;
const paramsOf = (transition: { params: Record<string, string> }): Params =>
  Object.fromEntries(Object.entries(transition.params).map(([name, type]) => [name, type === "text" ? "x" : 1]));

const CALLS = 200_000;
function time(label: string, call: () => unknown): void {
  for (let round = 1; round <= 3; round++) {
    const started = performance.now();
    for (let i = 0; i < CALLS; i++) call();
    console.log(`${label} round ${round}: ${(((performance.now() - started) / CALLS) * 1000).toFixed(2)} µs per call`);
  }
}

const create = TRANSITIONS.create;
const createParams = paramsOf(create);
time("create", () => applyTransition(null, create, createParams));
const running = { ...applyTransition(null, create, createParams), status: "running" };
const complete = TRANSITIONS.complete;
const completeParams = paramsOf(complete);
time("complete", () => applyTransition(running, complete, completeParams));
