import type { Checkpoint, Finished, Store } from "../../src/store/store.js";

/**
 * Logs a store's writes in commit order: inserts (with the state the row was born in), deliveries (with
 * whether the resumed run's end went with them) and checkpoints (status and the step records they carry).
 * Claims folded into flushes go through applyCheckpoints, so nothing escapes the log.
 */
export function recordWrites(store: Store): string[] {
  const writes: string[] = [];
  const create = store.createExecution.bind(store);
  store.createExecution = async (input) => {
    const result = await create(input);
    writes.push(
      `insert ${finishedStatus(input.finished) ?? (input.claimFor ? "running" : "pending")}${result.created ? "" : " (held key)"}`,
    );
    return result;
  };
  const deliver = store.deliverEvent.bind(store);
  store.deliverEvent = async (request) => {
    const outcome = await deliver(request);
    const finished = outcome.outcome === "delivered" && outcome.finished ? ` ${finishedStatus(request.finishIfToken?.finished)}` : "";
    writes.push(`deliver ${outcome.outcome}${finished}`);
    return outcome;
  };
  const apply = store.applyCheckpoints.bind(store);
  store.applyCheckpoints = async (batch) => {
    const results = await apply(batch);
    for (const c of batch) writes.push(`checkpoint ${patchStatus(c)}${c.steps?.length ? ` +${c.steps.map((s) => s.name).join(",")}` : ""}`);
    return results;
  };
  store.applyAndClaim = async (batch, request) => ({ results: await store.applyCheckpoints(batch), claim: await store.claim(request) });
  return writes;
}

function finishedStatus(finished: Finished | undefined): string | undefined {
  return finished === undefined ? undefined : finished.transition === "complete" ? "completed" : "failed";
}

/** The status a checkpoint asks for, in the words the log has always used. */
function patchStatus(checkpoint: Checkpoint): string {
  const names = {
    progress: "running",
    park: "waiting",
    release: "requeue",
    retry: "requeue",
    complete: "completed",
    fail: "failed",
  } as const;
  return names[checkpoint.patch.transition];
}
