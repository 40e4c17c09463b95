/**
 * Ablation switches for a zart-server process that a probe starts (preloaded with `--import`; the server's
 * counterpart of probe-knobs.ts, which reaches only the probe's own process). Each puts back, in that
 * server only, the alternative a decision record compares the engine's choice with.
 *
 *   PROBE_INSERTS=at-once   PostgreSQL's insert batcher starts a statement at once when one is free,
 *                           instead of at the end of the turn                           decisions/032
 */
const root = new URL("../../dist/", import.meta.url);

if (process.env.PROBE_INSERTS === "at-once") {
  const { InsertBatcher } = await import(new URL("store/postgres/insert-batcher.js", root).href);
  const submit = InsertBatcher.prototype.submit;
  InsertBatcher.prototype.submit = function (input) {
    // Refusals as shipped (the bound is checked first either way).
    if (this.queue.length >= this.maxQueued) return submit.call(this, input);
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.pump();
    });
  };
}
