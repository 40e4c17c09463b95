/**
 * The engine's waits for an execution to end, beside the Engine so that it reads as the public API: the
 * callback form the server's parked long-polls use (decision 031) and the hops both forms let pass so the
 * final record comes from the terminal cache.
 */
import { type ExecutionRecord, isTerminal } from "../core/types.js";
import { watchThroughWait, type ZartApi } from "./api.js";
import type { TerminalCache } from "./terminal-cache.js";
import type { Waiter, Waiters } from "./waiters.js";

export interface WatchDeps {
  waiters: Waiters;
  terminal: TerminalCache;
  /** This process's run of the execution, if it runs it. */
  runOf(id: string): Promise<void> | null;
  get(id: string): Promise<ExecutionRecord>;
  /** The promise form, for the cases the callback form hands over. */
  api: Pick<ZartApi, "waitForTerminal">;
}

/** {@link ZartApi.watchTerminal}. */
export function watchTerminal(
  deps: WatchDeps,
  id: string,
  timeoutMs: number,
  done: (execution: Promise<ExecutionRecord>) => void,
): () => void {
  // The promise form races a run in this process; a long-poll of a run here is the exception.
  if (timeoutMs <= 0 || deps.runOf(id) !== null) return watchThroughWait(deps.api, id, timeoutMs, done);
  const { waiters } = deps;
  let waiter: Waiter;
  let ownerEnded = false;
  const onEnd = () => {
    const left = ownerEnded ? 0 : waiters.remaining(waiter);
    const read = readAfterWait(deps, id);
    if (left <= 0) return done(read);
    // Woken by an end: unless it runs again by now (a retry right after a cancel), that is the answer.
    read.then(
      (execution) => (isTerminal(execution.status) || ownerEnded ? done(Promise.resolve(execution)) : watchFor(left)),
      (error: unknown) => done(Promise.reject(error)),
    );
  };
  // Registered before the read, so a terminal notice between the two is not missed; read once other
  // processes publish ends (Waiters.ready).
  const watchFor = (ms: number) => {
    const current = waiters.watch(id, ms, onEnd);
    waiter = current;
    waiters
      .ready()
      .then(() => deps.get(id))
      .then(
        (execution) => {
          if (isTerminal(execution.status) && waiters.forget(current)) done(Promise.resolve(execution));
        },
        (error: unknown) => {
          if (waiters.forget(current)) done(Promise.reject(error));
        },
      );
  };
  watchFor(timeoutMs);
  return () => {
    ownerEnded = true;
    waiters.end(waiter);
  };
}

async function readAfterWait(deps: WatchDeps, id: string): Promise<ExecutionRecord> {
  await cachingHops(deps.terminal, id);
  return deps.get(id);
}

/**
 * The terminal notice is emitted as the commit returns, a few promise hops before this process's runner
 * (if it ran the execution) caches the final record; let those hops finish so the record comes from
 * memory instead of a store read. With the run at hand, its end is what to wait for; a run cancelled
 * elsewhere may not end soon, so one turn of the event loop bounds the wait.
 */
export async function cachingHops(terminal: TerminalCache, id: string, run: Promise<void> | null = null): Promise<void> {
  if (terminal.has(id)) return;
  const turn = new Promise((resolve) => setImmediate(resolve));
  await (run === null ? turn : runEndOr(run, turn));
}

/*
 * Waits that end at a run's end or earlier. `Promise.race([run, other])` would leave a reaction on the run's
 * promise for every wait until the run ends, also when `other` won long before: a run that takes hours (a
 * long step) with clients long-polling it again and again (each poll that times out or whose client leaves
 * is such a wait) held every one of them. Here the run's promise gets one reaction of its own, and each wait
 * a callback in a set that it leaves when it stops.
 */
const waiting = new WeakMap<Promise<void>, Set<() => void>>();

/** Calls `fn` once `run` settles; the function returned stops that (and frees `fn`) if it has not happened. */
function onRunEnd(run: Promise<void>, fn: () => void): () => void {
  let fns = waiting.get(run);
  if (fns === undefined) {
    const created = new Set<() => void>();
    fns = created;
    waiting.set(run, created);
    const ended = () => {
      waiting.delete(run);
      for (const each of created) each();
      created.clear();
    };
    run.then(ended, ended);
  }
  const own = fns;
  own.add(fn);
  return () => {
    own.delete(fn);
  };
}

/** Resolves once `run` settles or `other` settles, whichever is first, holding nothing on `run` after. */
export function runEndOr(run: Promise<void>, other: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const stop = onRunEnd(run, resolve);
    const done = () => {
      stop();
      resolve();
    };
    other.then(done, done);
  });
}

/** How many waits are registered on `run`'s end (tests). */
export function waitsOnRun(run: Promise<void>): number {
  return waiting.get(run)?.size ?? 0;
}
