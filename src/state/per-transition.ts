/**
 * What is derived from a transition (a row builder, a statement's parameter list) is derived once:
 * transitions are constants, so the value is kept with the transition object for the process's life.
 */
import type { Transition } from "./transitions.js";

export function perTransition<T>(derive: (transition: Transition) => T): (transition: Transition) => T {
  const derived = new WeakMap<Transition, T>();
  return (transition) => {
    let value = derived.get(transition);
    if (value === undefined) {
      value = derive(transition);
      derived.set(transition, value);
    }
    return value;
  };
}
