/**
 * The tasks an engine knows: those it runs (definitions loaded here) and those other workers registered in
 * the store (their input schema and options), read on demand and cached briefly so a POST does not cost a
 * lookup each time. It checks a new execution's request (task known, data valid) and works out the options
 * its row is created with (concurrency group).
 */

import type { Clock } from "../core/clock.js";
import { ZartError } from "../core/errors.js";
import { checkJsonSchema } from "../core/schema.js";
import { isStorableText, STORABLE_TEXT_RULE } from "../core/stored-text.js";
import type { TaskConcurrency, TaskDefinition } from "../core/task.js";
import type { TaskRegistration } from "../core/types.js";
import type { CreationOptions, Store } from "../store/store.js";

/** How long another worker's registration is trusted before it is read again. */
const REMOTE_TASK_TTL_MS = 5000;

export class TaskDirectory {
  private readonly remote = new Map<string, { registration: TaskRegistration; at: number }>();

  constructor(
    readonly local: ReadonlyMap<string, TaskDefinition>,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** What this process publishes about the tasks it runs. */
  registrations(): TaskRegistration[] {
    return [...this.local.values()].map((task) => ({
      name: task.name,
      inputSchemaJson: task.input?.jsonSchemaText ?? null,
      options: {
        ...(task.concurrency ? { concurrencyLimit: task.concurrency.limit, concurrencyKeyed: task.concurrency.keyed } : {}),
        ...(task.bufferedEvents ? { bufferedEvents: true } : {}),
        ...(task.input && task.input.jsonSchemaText === null ? { opaqueInput: true } : {}),
      },
    }));
  }

  /**
   * Validates `data` for `task` (locally, or against the registered schema) and returns the concurrency
   * group its row gets. Throws task_not_registered or invalid_data.
   */
  async admit(task: string, data: unknown, concurrencyKey?: string): Promise<Pick<CreationOptions, "concurrency">> {
    const local = this.local.get(task);
    if (local) {
      const result = local.input ? await local.input.validate(data, "data") : ({ ok: true } as const);
      if (!result.ok) throw new ZartError("invalid_data", result.message);
      if (!local.concurrency) return {};
      const key = concurrencyKey ?? keyOf(local.concurrency, data);
      return { concurrency: { key, limit: local.concurrency.limit } };
    }
    const registration = await this.registration(task);
    if (!registration) throw new ZartError("task_not_registered", `No task named "${task}" is registered`);
    if (registration.inputSchemaJson) {
      const message = checkJsonSchema(registration.inputSchemaJson, data, "data");
      if (message) throw new ZartError("invalid_data", message);
    }
    const limit = registration.options.concurrencyLimit;
    // A key function runs only where the task's code is: here, without `concurrency_key`, the execution
    // counts against the task-wide group (docs/concurrency.md).
    return limit === undefined ? {} : { concurrency: { key: concurrencyKey ?? "", limit } };
  }

  /**
   * Whether `task`'s executions take their concurrency group from a key function whose code is not in this
   * process: only a process running the task can admit them without a `concurrency_key` of the caller's.
   */
  async keyedElsewhere(task: string): Promise<boolean> {
    if (this.local.has(task)) return false;
    return (await this.registration(task))?.options.concurrencyKeyed === true;
  }

  async registration(name: string): Promise<TaskRegistration | null> {
    // No task has a name no store can hold (and PostgreSQL refuses a NUL in a query): no need to ask.
    if (!isStorableText(name)) return null;
    const now = this.clock.now();
    const cached = this.remote.get(name);
    if (cached && now - cached.at < REMOTE_TASK_TTL_MS) return cached.registration;
    // Only found ones are kept: a task that a worker is registering right now must not look unknown for long.
    const registration = await this.store.getTask(name);
    if (registration) this.remote.set(name, { registration, at: now });
    return registration;
  }
}

function keyOf(concurrency: TaskConcurrency<unknown>, data: unknown): string {
  let value: unknown;
  try {
    value = concurrency.key(data);
  } catch (error) {
    throw new ZartError("invalid_data", `The task's concurrency key function threw: ${(error as Error).message}`);
  }
  if (typeof value !== "string" || !isStorableText(value) || value.length > 255) {
    throw new ZartError(
      "invalid_data",
      `The task's concurrency key function must return a string of at most 255 characters ${STORABLE_TEXT_RULE}`,
    );
  }
  return value;
}
