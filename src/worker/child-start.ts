/**
 * Starting a child execution from a workflow (`ctx.startChild`, `ctx.runChild`): the child is checked like
 * a POST, and inserted in the same write as the record of its start, once every record before it is
 * durable. A child the checks refuse is a failed record of the parent (catchable, replayed as such).
 */
import { ChildFailedError, engineFailure, ZartError } from "../core/errors.js";
import type { StepKind, StepRecord } from "../core/types.js";
import type { NewExecution } from "../store/store.js";
import type { ChildRequest, ContextDeps } from "./context-deps.js";
import type { RecordWriter } from "./record-writer.js";
import { checkChildOptions } from "./recorded-outcomes.js";
import type { RunStop } from "./run-abort.js";
import type { OpenWait } from "./run-activity.js";

/** What a child's start needs of the run that starts it (the run's context). */
export interface ChildStarter {
  readonly executionId: string;
  readonly writer: RecordWriter;
  readonly stop: Pick<RunStop, "reason">;
  newRecord(name: string, kind: StepKind, state: StepRecord["state"], seq: number, fields?: Partial<StepRecord>): StepRecord;
}

/** Starts the child; `wait` (runChild): the record stays open until the child ends. */
export async function startChild(
  run: ChildStarter,
  prepareChild: ContextDeps["prepareChild"],
  name: string,
  seq: number,
  request: Omit<ChildRequest, "parent">,
  wait: boolean,
): Promise<string | { open: OpenWait }> {
  checkChildOptions(`${wait ? "runChild" : "startChild"}("${name}")`, request.options);
  let child: NewExecution;
  try {
    child = await prepareChild({ ...request, parent: { id: run.executionId, step: name } });
  } catch (error) {
    if (!(error instanceof ZartError)) throw error;
    const code = error.code === "task_not_registered" ? "task_not_registered" : "invalid_data";
    const info = engineFailure(code, error.message, name);
    run.writer.hold(run.newRecord(name, "child", "failed", seq, { error: info }));
    throw new ChildFailedError(name, error.message, null, code);
  }
  await run.writer.barrier(run.stop);
  const record = run.newRecord(name, "child", wait ? "waiting" : "completed", seq, { childId: child.id });
  run.writer.hold(record);
  if (!(await run.writer.commitWithChildren([child], name))) throw run.stop.reason;
  return wait ? { open: { record, attempts: [] } } : child.id;
}
