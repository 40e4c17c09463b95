/** What a run's `ctx` needs from the worker that claimed it: the record writer's needs plus limits, hooks and children. */
import type { Logger } from "../core/logger.js";
import type { ChildOptions, TaskDefinition } from "../core/task.js";
import type { NewExecution } from "../store/store.js";
import type { WriterDeps } from "./record-writer.js";
import type { StepOutcomeLabel } from "./step-runner.js";

export interface ChildRequest {
  task: string | TaskDefinition;
  data: unknown;
  options: ChildOptions;
  parent: { id: string; step: string };
}

export interface ContextDeps extends WriterDeps {
  logger: Logger;
  maxPayloadBytes: number;
  inPlaceBackoffMaxMs: number;
  random: () => number;
  /** Validates a child's task and data like a POST and builds its row; throws ZartError for the caller's mistakes. */
  prepareChild(request: ChildRequest): Promise<NewExecution>;
  onStepFinished?(task: string, step: string, ms: number, ok: boolean): void;
  onStepOutcome?(task: string, step: string, outcome: StepOutcomeLabel): void;
}
