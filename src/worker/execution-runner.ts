/**
 * Runs one claimed execution from the top (replay) to an outcome: completed, failed, parked (`waiting`),
 * requeued for a task-level retry, or released on shutdown. Writes go through the group committer; the
 * records it keeps of its own rows are the pure transitions' results (src/state/apply.ts).
 */
import { type AbortReason, engineFailure, StepFailedError, toError, ZartError } from "../core/errors.js";
import { encodeJson } from "../core/json.js";
import { backoffDelay, shouldRetry } from "../core/retry-policy.js";
import type { TaskDefinition } from "../core/task.js";
import type { ErrorInfo, ExecutionRecord, ExecutionStatus, StepRecord } from "../core/types.js";
import { applyTransition } from "../state/apply.js";
import { toExecution, toRow } from "../store/row-mapping.js";
import type { Checkpoint, ClaimedExecution, Fence, WorkerPatch } from "../store/store.js";
import { CheckpointRejectedError } from "../store/store-errors.js";
import { checkpointParams, type WriteParts, workerTransition } from "../store/writes.js";
import type { ContextDeps } from "./context-deps.js";
import { errorInfo } from "./error-info.js";
import { ExecutionContext } from "./execution-context.js";
import { RunTrace } from "./tracing.js";

export interface RunnerDeps extends ContextDeps {
  /**
   * An execution this runner completed or failed (terminal records never change): its id, its values that
   * can be large (input data, output, error), and how to make its final record, which is made only if
   * someone asks (most are never read).
   */
  onTerminal?(executionId: string, values: Pick<ExecutionRecord, "dataJson" | "outputJson" | "error">, record: () => ExecutionRecord): void;
  onFinished?(task: string, status: ExecutionStatus | "parked" | "requeued" | "aborted", executionId: string): void;
  /** A run parked on an event: the execution and steps exactly as stored (see held-write.ts). */
  onParked?(run: ClaimedExecution): void;
}

type RunOutcome = { kind: "returned"; value: unknown } | { kind: "threw"; error: Error } | { kind: "parked" };
type RunLabel = ExecutionStatus | "parked" | "requeued" | "aborted";

export class ExecutionRunner {
  readonly ctx: ExecutionContext;
  readonly done: Promise<void>;
  private readonly trace: RunTrace;
  private ended = false;

  constructor(
    private readonly claimed: ClaimedExecution,
    private readonly task: TaskDefinition,
    private readonly deps: RunnerDeps,
    /**
     * Called once the task's code is done and only the final write (completed, failed, parked, requeued)
     * remains: the worker may give the slot to the next execution while that write commits.
     */
    private readonly onSettling: (runner: ExecutionRunner) => void = () => {},
  ) {
    this.trace = new RunTrace(claimed.execution);
    this.ctx = new ExecutionContext(claimed, deps, task.eventSchemas, this.trace);
    this.done = this.run().catch((error: unknown) => {
      // Only store failures land here (the lease then expires and another worker resumes the execution).
      this.ctx.log.error({ err: error }, "execution could not record its outcome");
      this.ctx.abort("lease_lost");
      this.finished("aborted");
    });
  }

  abort(reason: AbortReason): void {
    this.ctx.abort(reason);
  }

  /** The claim this run holds (for lease renewal). */
  get fence(): Fence {
    return { executionId: this.claimed.execution.id, leaseToken: this.claimed.execution.leaseToken };
  }

  private deadline(): number | null {
    const { timeoutFrom } = this.claimed.execution;
    return this.task.timeoutMs === null || timeoutFrom === null ? null : timeoutFrom + this.task.timeoutMs;
  }

  private async run(): Promise<void> {
    const { clock } = this.deps;
    const { execution } = this.claimed;
    const deadline = this.deadline();
    if (deadline !== null && clock.now() >= deadline) return this.finish({ transition: "fail", error: this.timeoutError() });
    if (this.claimed.recovered) {
      this.ctx.log.warn({ crashes: execution.crashes }, `resuming execution ${execution.id} after its lease expired (its worker stopped)`);
    }
    const cancelTimer = deadline === null ? null : clock.setTimer(deadline - clock.now(), () => this.ctx.abort("timeout"));
    try {
      // The abort race matters when user code waits on something of its own, outside any ctx call:
      // cancel, timeout, lost lease and shutdown must conclude the run without its cooperation.
      const outcome = await Promise.race([
        this.startRun(),
        this.ctx.activity.parked.then((): RunOutcome => ({ kind: "parked" })),
        this.aborted(),
      ]);
      await this.conclude(outcome);
    } finally {
      cancelTimer?.();
    }
  }

  private aborted(): Promise<RunOutcome> {
    return this.ctx.stop.whenAborted((error): RunOutcome => ({ kind: "threw", error }));
  }

  /**
   * Input was validated once, when the execution was created; a later change of the schema does not fail
   * it. The exception: a schema only the task's code can check (no JSON Schema form), for an execution an
   * API-only server created - checked here, on the execution's first run only.
   */
  private startRun(): Promise<RunOutcome> {
    const data: unknown = JSON.parse(this.claimed.execution.dataJson);
    const opaque = this.opaqueInput();
    const checked = opaque === null ? Promise.resolve() : this.checkOpaqueInput(opaque, data);
    return checked
      .then(() => this.trace.run(() => this.task.run(this.ctx, data)))
      .then(
        (value): RunOutcome => ({ kind: "returned", value }),
        (error: unknown): RunOutcome => ({ kind: "threw", error: toError(error) }),
      )
      .finally(() => this.ctx.activity.finish());
  }

  /** The task's input schema when this run must check the data itself (see startRun), else null. */
  private opaqueInput(): NonNullable<TaskDefinition["input"]> | null {
    const { input } = this.task;
    const { execution, steps } = this.claimed;
    return input && input.jsonSchemaText === null && execution.attempt === 1 && steps.length === 0 ? input : null;
  }

  private async checkOpaqueInput(input: NonNullable<TaskDefinition["input"]>, data: unknown): Promise<void> {
    const result = await input.validate(data, "data");
    if (!result.ok) {
      this.ctx.fatal ??= new ZartError("invalid_data", result.message);
      throw this.ctx.fatal;
    }
  }

  private async conclude(outcome: RunOutcome): Promise<void> {
    const { ctx } = this;
    if (ctx.rejected) return this.finish({ transition: "fail", error: errorInfo(ctx.rejected, null) }, true);
    const reason = ctx.stop.reason?.reason ?? null;
    if (reason === "cancelled" || reason === "lease_lost") return this.finished("aborted");
    if (ctx.fatal) return this.finish({ transition: "fail", error: errorInfo(ctx.fatal, null) }, true);
    if (outcome.kind === "returned") return this.complete(outcome.value);
    if (reason === "timeout") return this.finish({ transition: "fail", error: this.timeoutError() }, true);
    if (reason === "shutdown") return this.finish({ transition: "release", runAt: this.deps.clock.now() });
    if (outcome.kind === "parked") return this.park();
    return this.failOrRetry(outcome.error);
  }

  private async complete(value: unknown): Promise<void> {
    let outputJson: string;
    try {
      outputJson = encodeJson(value, "The task's return value", this.deps.maxPayloadBytes);
    } catch (error) {
      return this.finish({ transition: "fail", error: errorInfo(toError(error), null) }, true);
    }
    return this.finish({ transition: "complete", outputJson }, true);
  }

  private async failOrRetry(error: Error): Promise<void> {
    const { ctx, task, deps } = this;
    const named = (error as { step?: unknown }).step;
    const step = error instanceof StepFailedError ? error.step : named === undefined || named === null ? null : String(named);
    const info = errorInfo(error, step);
    this.trace.fail(error);
    if (shouldRetry(task.retry, ctx.attempt, error)) {
      const runAt = this.wakeBy(deps.clock.now() + backoffDelay(task.retry, ctx.attempt, deps.random)) as number;
      ctx.log.warn({ attempt: ctx.attempt, err: error }, "execution failed; task-level retry scheduled");
      // Only the failure that escaped `run()` is set aside (its step runs again); failures the workflow caught stay.
      const escaped = step === null ? undefined : ctx.records.get(step);
      const discarded: StepRecord[] = escaped?.state === "failed" ? [{ ...escaped, state: "discarded" }] : [];
      return this.finish({ transition: "retry", runAt, attempt: ctx.attempt + 1 }, true, discarded);
    }
    return this.finish({ transition: "fail", error: info }, true);
  }

  /**
   * When a parked or retried execution wakes: at `at`, or at its deadline when that comes first (its claim
   * then fails it with `timeout`), so no wait or backoff outlasts the execution's timeout.
   */
  private wakeBy(at: number | null): number | null {
    const deadline = this.deadline();
    if (deadline === null) return at;
    return at === null ? deadline : Math.min(at, deadline);
  }

  /** One `park` write for every open wait; wakes at the earliest of their times, by the deadline. */
  private async park(): Promise<void> {
    const waits = this.ctx.activity.openWaits();
    const wakes = waits.map((w) => w.record.wakeAt).filter((w): w is number => w !== null);
    const patch: WorkerPatch = {
      transition: "park",
      currentStep: waits[0]?.record.name ?? null,
      waitingForEvent: waits.find((w) => w.record.kind === "event")?.record.name ?? null,
      wakeAt: this.wakeBy(wakes.length > 0 ? Math.min(...wakes) : null),
    };
    const checkpoint = this.ctx.writer.final(
      patch,
      waits.map((w) => w.record),
      waits.flatMap((w) => w.attempts),
    );
    this.onSettling(this);
    const ok = await this.commitFinal(checkpoint);
    const after = ok ? rowAfter(this.claimed.execution, checkpoint, this.ctx.writer.consumedInRun) : null;
    if (after?.status === "waiting" && patch.waitingForEvent !== null) {
      this.deps.onParked?.({ execution: after, steps: this.ctx.records.all(), events: [], recovered: false });
    }
    this.finished(ok ? "parked" : "aborted");
  }

  /**
   * A write that leaves `running`. `closeWaits`: the run ended, so its open waits are closed (recorded as
   * such: a late event for one of them is refused).
   */
  private async finish(patch: WorkerPatch, closeWaits = false, steps: StepRecord[] = []): Promise<void> {
    const closed = closeWaits ? this.ctx.activity.openWaits().map((w) => ({ ...w.record, state: "closed" as const })) : [];
    const checkpoint = this.ctx.writer.final(patch, [...steps, ...closed]);
    this.onSettling(this);
    const ok = await this.commitFinal(checkpoint);
    // A task that buffers events may have had one stored while it ran: the stored row counts it, this run's
    // view does not, so its final record is read from the store when asked.
    if (ok && (patch.transition === "complete" || patch.transition === "fail") && !this.task.bufferedEvents) {
      const { execution } = this.claimed;
      // Only what the record is made of is kept (not the records the write carried): it may be kept a while.
      const parts: WriteParts = { patch, now: checkpoint.now, stepsCompleted: checkpoint.stepsCompleted, crashes: checkpoint.crashes };
      const consumed = this.ctx.writer.consumedInRun;
      const values = {
        dataJson: execution.dataJson,
        outputJson: patch.transition === "complete" ? patch.outputJson : null,
        error: patch.transition === "complete" ? null : patch.error,
      };
      this.deps.onTerminal?.(execution.id, values, () => rowAfter(execution, parts, consumed));
    }
    const label =
      patch.transition === "release" || patch.transition === "retry"
        ? "requeued"
        : patch.transition === "complete"
          ? "completed"
          : "failed";
    if (patch.transition === "fail") this.trace.fail(patch.error);
    this.finished(ok ? label : "aborted");
    if (patch.transition === "fail" && ok) this.ctx.log.warn({ error: withoutStack(patch.error) }, "execution failed");
  }

  /** The run has ended: its span ends, and the worker hears how, once (a run its store failed ends `aborted`). */
  private finished(label: RunLabel): void {
    if (this.ended) return;
    this.ended = true;
    this.trace.end(label);
    this.deps.onFinished?.(this.ctx.taskName, label, this.ctx.executionId);
  }

  /**
   * Fenced out (lease lost, cancelled): the code still running for this run is told to stop. Refused for
   * good by the store: the execution fails with that refusal instead (a write of our own text only).
   */
  private async commitFinal(checkpoint: Checkpoint): Promise<boolean> {
    let ok: boolean;
    try {
      ok = await this.deps.commit(checkpoint);
    } catch (error) {
      if (!(error instanceof CheckpointRejectedError) || checkpoint.patch.transition === "fail") throw error;
      this.ctx.log.error({ err: error }, "the store refused the execution's write; failing it");
      const failed = this.ctx.writer.final({ transition: "fail", error: errorInfo(error, null) });
      return this.commitFinal({ ...failed, steps: [], attempts: [] });
    }
    if (!ok) this.ctx.abort("lease_lost");
    return ok;
  }

  private timeoutError(): ErrorInfo {
    return engineFailure("timeout", `Execution timeout: exceeded ${this.task.timeoutMs} ms since it first started`, null);
  }
}

function withoutStack(error: ErrorInfo): ErrorInfo {
  const { stack: _stack, ...rest } = error;
  return rest;
}

/**
 * The row as a write of this run left it, from the pure transition (src/state/apply.ts) applied to the
 * claimed row. Something the store received meanwhile (an event for an open wait) can make a park requeue
 * instead; whoever relies on a parked row checks its fencing token first (Engine, eager resume).
 * `consumedInRun`: every write of the run subtracted the buffered events it took; from the claimed row, all of them.
 */
function rowAfter(claimed: ExecutionRecord, checkpoint: WriteParts, consumedInRun: number): ExecutionRecord {
  const params = { ...checkpointParams(checkpoint), consumed: consumedInRun };
  return toExecution(applyTransition(toRow(claimed), workerTransition(checkpoint.patch), params));
}
