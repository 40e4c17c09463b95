// @ts-check
/** Data hooks: load a resource, keep it fresh while the tab is visible, and reload when the token changes. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, auth } from "./api.js";

/**
 * @template T
 * @typedef {{ data: T | null, error: unknown, loading: boolean, updatedAt: number | null, reload: () => void }} Resource
 */

/** @returns {number} */
export function useAuthGeneration() {
  const [generation, setGeneration] = useState(auth.state.generation);
  useEffect(() => auth.subscribe(() => setGeneration(auth.state.generation)), []);
  return generation;
}

/**
 * Runs `tick` every `ms` while the page is visible, and once at once when it becomes visible again.
 * @param {() => void} tick
 * @param {number} ms 0 turns it off
 */
export function useVisibleInterval(tick, ms) {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!ms) return;
    const run = () => {
      if (document.visibilityState === "visible") saved.current();
    };
    const timer = setInterval(run, ms);
    document.addEventListener("visibilitychange", run);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", run);
    };
  }, [ms]);
}

/**
 * Loads `/api/v1{path}`; `null` loads nothing. Keeps showing the last data while a reload runs, and never
 * lets an older answer replace a newer one (each load aborts the one before).
 * @template T
 * @param {string | null} path
 * @param {{ pollMs?: number, keep?: boolean }} [options] pollMs: reload this often while the tab is visible;
 *   keep: while another path loads, keep showing the previous path's data (paging, filters)
 * @returns {Resource<T>}
 */
export function useApi(path, options = {}) {
  const generation = useAuthGeneration();
  const [state, setState] = useState(
    /** @type {{ data: T | null, error: unknown, loading: boolean, updatedAt: number | null, path: string | null }} */ ({
      data: null,
      error: null,
      loading: path !== null,
      updatedAt: null,
      path,
    }),
  );
  /** @type {{ current: AbortController | null }} */
  const inFlight = useRef(null);

  const load = useCallback(() => {
    if (path === null) return;
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    setState((s) => ({ ...s, loading: true }));
    api(path, { signal: controller.signal }).then(
      (data) => {
        if (controller.signal.aborted) return;
        setState({ data: /** @type {T} */ (data), error: null, loading: false, updatedAt: Date.now(), path });
      },
      (error) => {
        if (controller.signal.aborted) return;
        // The last data of this path stays, with the error beside it: a failed refresh must not blank the page.
        setState((s) => ({ data: s.path === path ? s.data : null, error, loading: false, updatedAt: s.updatedAt, path }));
      },
    );
  }, [path]);

  useEffect(() => {
    if (path === null) {
      setState({ data: null, error: null, loading: false, updatedAt: null, path });
      return;
    }
    load();
    return () => inFlight.current?.abort();
  }, [load, generation]);

  useVisibleInterval(() => {
    if (!auth.state.prompt) load();
  }, options.pollMs ?? 0);

  const same = state.path === path;
  const data = same || options.keep ? state.data : null;
  return { data, error: same ? state.error : null, loading: state.loading, updatedAt: state.updatedAt, reload: load };
}

/**
 * The current time, updated every `ms` while the tab is visible (relative times, running durations).
 * @param {number} ms
 */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now);
  useVisibleInterval(() => setNow(Date.now()), ms);
  return now;
}

/**
 * A form's submit: marks the form tried (its editors then show their problems), runs `send` when the form
 * is ready, is busy while it runs, and keeps the message of the error it ended with.
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const [error, setError] = useState("");
  /**
   * @param {boolean} ready
   * @param {() => Promise<void>} send
   * @param {(error: unknown) => string} describe
   */
  const submit = async (ready, send, describe) => {
    setTried(true);
    if (!ready) return;
    setBusy(true);
    setError("");
    try {
      await send();
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, tried, error, submit };
}
