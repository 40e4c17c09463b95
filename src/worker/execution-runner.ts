/**
 * Runs one claimed execution from the top (replay) to an outcome: completed, failed, parked (`waiting`),
 * requeued for a task-level retry, or released on shutdown. Writes go through the group committer.
 */
import { type AbortReason, type ExecutionAbortedError, StepFailedError, toError } from "../core/errors.js";
import { encodeJson } from "../core/json.js";
import { backoffDelay, shouldRetry } from "../core/retry-policy.js";
import type { TaskDefinition } from "../core/task.js";
import type { ErrorInfo, ExecutionRecord, ExecutionStatus } from "../core/types.js";
import type { Checkpoint, ClaimedExecution, ExecutionPatch } from "../store/store.js";
import { type ContextDeps, ExecutionContext, errorInfo } from "./execution-context.js";
import type { ParkedRun } from "./held-write.js";

export interface RunnerDeps extends ContextDeps {
  /** The final record of an execution this runner completed or failed (terminal records never change). */
  onTerminal?(execution: ExecutionRecord): void;
  onFinished?(task: string, status: ExecutionStatus | "parked" | "requeued" | "aborted", executionId: string): void;
  /** A run parked on an event: the execution and steps exactly as stored (see held-write.ts). */
  onParked?(run: ParkedRun): void;
}

type RunOutcome = { kind: "returned"; value: unknown } | { kind: "threw"; error: Error } | { kind: "suspended" };

export class ExecutionRunner {
  readonly ctx: ExecutionContext;
  readonly done: Promise<void>;
  private runSettled: RunOutcome | null = null;

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
    this.ctx = new ExecutionContext(claimed.execution, claimed.steps, deps);
    this.done = this.run().catch((error: unknown) => {
      // Only store failures land here (the lease then expires and another worker resumes the execution).
      this.ctx.log.error({ err: error }, "execution could not record its outcome");
      this.ctx.abort("lease_lost");
    });
  }

  abort(reason: AbortReason): void {
    this.ctx.abort(reason);
  }

  private deadline(): number | null {
    const { startedAt } = this.claimed.execution;
    return this.task.timeoutMs === null || startedAt === null ? null : startedAt + this.task.timeoutMs;
  }

  private async run(): Promise<void> {
    const { clock } = this.deps;
    const deadline = this.deadline();
    if (deadline !== null && clock.now() >= deadline)
      return this.finish({ status: "failed", error: this.timeoutError(), stepsCompleted: this.ctx.stepsCompleted });
    const data = JSON.parse(this.claimed.execution.dataJson) as unknown;
    const invalid = await this.invalidInput(data);
    if (invalid) return this.finish({ status: "failed", error: invalid, stepsCompleted: this.ctx.stepsCompleted });
    const cancelTimer = deadline === null ? null : clock.setTimer(deadline - clock.now(), () => this.ctx.abort("timeout"));
    try {
      // The abort race matters when user code waits on something of its own, outside any ctx call:
      // cancel, timeout, lost lease and shutdown must conclude the run without its cooperation.
      let outcome = await Promise.race([
        this.startRun(data),
        this.ctx.suspended().then((): RunOutcome => ({ kind: "suspended" })),
        this.aborted(),
      ]);
      if (outcome.kind === "suspended") {
        await this.ctx.settle();
        // Let a rejection from a parallel branch reach the run's promise before deciding to park.
        await new Promise((resolve) => setImmediate(resolve));
        outcome = this.runSettled ?? outcome;
      }
      await this.conclude(outcome);
    } finally {
      cancelTimer?.();
    }
  }

  private aborted(): Promise<RunOutcome> {
    const { signal } = this.ctx;
    return new Promise((resolve) => {
      const settle = () => resolve({ kind: "threw", error: signal.reason as Error });
      if (signal.aborted) settle();
      else signal.addEventListener("abort", settle, { once: true });
    });
  }

  private startRun(data: unknown): Promise<RunOutcome> {
    return Promise.resolve()
      .then(() => this.task.run(this.ctx, data))
      .then(
        (value): RunOutcome => ({ kind: "returned", value }),
        (error: unknown): RunOutcome => ({ kind: "threw", error: toError(error) }),
      )
      .then((outcome) => {
        this.runSettled = outcome;
        return outcome;
      });
  }

  private async invalidInput(data: unknown): Promise<ErrorInfo | null> {
    if (!this.task.input) return null;
    const result = await this.task.input.validate(data, "data");
    return result.ok ? null : { message: result.message, step: null, code: "invalid_data" };
  }

  private async conclude(outcome: RunOutcome): Promise<void> {
    const { ctx } = this;
    const stepsCompleted = ctx.stepsCompleted;
    const reason = ctx.signal.aborted ? (ctx.signal.reason as ExecutionAbortedError).reason : null;
    if (reason === "cancelled" || reason === "lease_lost") return this.deps.onFinished?.(ctx.taskName, "aborted", ctx.executionId);
    if (ctx.fatal) return this.finish({ status: "failed", error: errorInfo(ctx.fatal, null), stepsCompleted });
    if (outcome.kind === "returned") return this.complete(outcome.value);
    if (reason === "timeout") return this.finish({ status: "failed", error: this.timeoutError(), stepsCompleted });
    if (reason === "shutdown") return this.finish({ status: "requeue", runAt: this.deps.clock.now() });
    if (outcome.kind === "suspended") return this.park();
    return this.failOrRetry(outcome.error);
  }

  private async complete(value: unknown): Promise<void> {
    let outputJson: string;
    try {
      outputJson = encodeJson(value, "The task's return value", this.deps.maxPayloadBytes);
    } catch (error) {
      return this.finish({ status: "failed", error: errorInfo(toError(error), null), stepsCompleted: this.ctx.stepsCompleted });
    }
    return this.finish({ status: "completed", outputJson, stepsCompleted: this.ctx.stepsCompleted });
  }

  private async failOrRetry(error: Error): Promise<void> {
    const { ctx, task, deps } = this;
    const step = error instanceof StepFailedError || "step" in error ? String((error as { step: unknown }).step) : null;
    const info = errorInfo(error, step);
    if (shouldRetry(task.retry, ctx.attempt, error)) {
      const runAt = deps.clock.now() + backoffDelay(task.retry, ctx.attempt, deps.random);
      ctx.log.warn({ attempt: ctx.attempt, err: error.message }, "execution failed; task-level retry scheduled");
      return this.finish({ status: "requeue", runAt, retryAttempt: { attempt: ctx.attempt + 1, error: info } });
    }
    return this.finish({ status: "failed", error: info, stepsCompleted: ctx.stepsCompleted });
  }

  /** One `waiting` checkpoint for everything the run parked on; wakes at the earliest timer or the deadline. */
  private async park(): Promise<void> {
    const { suspensions } = this.ctx;
    const deadline = this.deadline();
    const wakes = suspensions.map((s) => s.record.wakeAt).filter((w): w is number => w !== null);
    if (deadline !== null) wakes.push(deadline);
    const patch: ExecutionPatch = {
      status: "waiting",
      currentStep: suspensions[0]?.record.name ?? null,
      waitingForEvent: suspensions.find((s) => s.record.kind === "event")?.record.name ?? null,
      wakeAt: wakes.length > 0 ? Math.min(...wakes) : null,
      stepsCompleted: this.ctx.stepsCompleted,
    };
    const checkpoint = this.ctx.finalCheckpoint(
      patch,
      suspensions.map((s) => s.record),
      suspensions.flatMap((s) => s.attempts),
    );
    this.onSettling(this);
    const ok = await this.commitFinal(checkpoint);
    if (ok && patch.waitingForEvent !== null) {
      // The row as the `waiting` write leaves it.
      const execution: ExecutionRecord = {
        ...this.claimed.execution,
        status: "waiting",
        currentStep: patch.currentStep,
        waitingForEvent: patch.waitingForEvent,
        stepsCompleted: patch.stepsCompleted,
        runnableAt: patch.wakeAt,
        leaseOwner: null,
        updatedAt: checkpoint.now,
      };
      this.deps.onParked?.({ execution, steps: this.ctx.storedSteps(checkpoint.steps ?? []) });
    }
    this.deps.onFinished?.(this.ctx.taskName, ok ? "parked" : "aborted", this.ctx.executionId);
  }

  private async finish(patch: ExecutionPatch): Promise<void> {
    const checkpoint = this.ctx.finalCheckpoint(patch);
    this.onSettling(this);
    const ok = await this.commitFinal(checkpoint);
    if (ok && (patch.status === "completed" || patch.status === "failed")) {
      const now = checkpoint.now;
      this.deps.onTerminal?.({
        ...this.claimed.execution,
        status: patch.status,
        outputJson: patch.status === "completed" ? patch.outputJson : null,
        error: patch.status === "failed" ? patch.error : null,
        stepsCompleted: patch.stepsCompleted,
        completedAt: now,
        updatedAt: now,
        currentStep: null,
        waitingForEvent: null,
        runnableAt: null,
        leaseOwner: null,
      });
    }
    const label =
      patch.status === "requeue" ? "requeued" : patch.status === "running" || patch.status === "waiting" ? "parked" : patch.status;
    this.deps.onFinished?.(this.ctx.taskName, ok ? label : "aborted", this.ctx.executionId);
    if (patch.status === "failed" && ok) this.ctx.log.warn({ error: patch.error }, "execution failed");
  }

  /** Fenced out (lease lost, cancelled): the code still running for this run is told to stop. */
  private async commitFinal(checkpoint: Checkpoint): Promise<boolean> {
    const ok = await this.deps.commit(checkpoint);
    if (!ok) this.ctx.abort("lease_lost");
    return ok;
  }

  private timeoutError(): ErrorInfo {
    return { message: `Execution timeout: exceeded ${this.task.timeoutMs} ms since it first started`, step: null, code: "timeout" };
  }
}
