// @ts-check
/**
 * JSDoc shapes of the API's JSON (http-api.md and operations.md). Fields the server may not send yet
 * (the additive ones of operations.md §1) are optional, and every page copes with their absence.
 */

/** @typedef {"pending" | "running" | "waiting" | "completed" | "failed" | "cancelled"} Status */

/**
 * @typedef {object} ErrorInfo
 * @property {string} message
 * @property {string | null} [step]
 * @property {string} [name]
 * @property {string} [code]
 * @property {string} [stack]
 */

/**
 * @typedef {object} Execution
 * @property {string} execution_id
 * @property {string} task
 * @property {Status} status
 * @property {number} [steps_completed]
 * @property {string | null} [current_step]
 * @property {string | null} [waiting_for_event]
 * @property {string | null} [started_at]
 * @property {string | null} [completed_at]
 * @property {string} [created_at]
 * @property {unknown} [output]
 * @property {unknown} [data]
 * @property {ErrorInfo | null} [error]
 * @property {number} [attempt]
 * @property {string | null} [idempotency_key]
 * @property {string | null} [parent_execution_id]
 * @property {string | null} [rerun_of]
 * @property {string | null} [schedule_id]
 * @property {number | null} [priority]
 * @property {number} [buffered_events]
 * @property {string | null} [concurrency_key]
 * @property {string | null} [start_at]
 */

/**
 * @typedef {object} ExecutionList
 * @property {Execution[]} executions
 * @property {number} total
 * @property {number} limit
 * @property {number} offset
 */

/** @typedef {Record<Status, number>} Stats */

/**
 * @typedef {object} Attempt
 * @property {number} attempt
 * @property {number} [execution_attempt]
 * @property {string | null} [started_at]
 * @property {string | null} [ended_at]
 * @property {ErrorInfo | null} [error]
 */

/**
 * @typedef {object} Step
 * @property {string} name
 * @property {"step" | "sleep" | "event" | "child"} kind
 * @property {"running" | "waiting" | "completed" | "failed"} status
 * @property {string | null} [started_at]
 * @property {string | null} [completed_at]
 * @property {number | null} [duration_ms]
 * @property {Attempt[]} [attempts]
 * @property {unknown} [result]
 * @property {unknown} [payload]
 * @property {ErrorInfo | null} [error]
 * @property {string | null} [wake_at]
 * @property {string | null} [timeout_at]
 * @property {string | null} [child_execution_id]
 * @property {string | null} [copied_from]
 * @property {JsonSchema | null} [schema] a waiting event wait's payload schema
 * @property {string | null} [retry_at] a step waiting out a backoff: when it runs again
 * @property {boolean} [closed] a wait the execution no longer needed when it ended
 * @property {boolean} [discarded] a failure a retry set aside (the step runs again)
 */

/**
 * @typedef {object} StepList
 * @property {string} execution_id
 * @property {Step[]} steps
 */

/**
 * @typedef {object} Task
 * @property {string} name
 * @property {JsonSchema | null} [input_schema]
 * @property {number} [workers]
 * @property {string | null} [last_seen_at]
 * @property {Partial<Stats>} [counts]
 */

/**
 * @typedef {object} Worker
 * @property {string} worker_id
 * @property {string} [host]
 * @property {number} [pid]
 * @property {string[]} [tasks]
 * @property {number} [concurrency]
 * @property {number} [running]
 * @property {string} [started_at]
 * @property {string} [last_seen_at]
 */

/**
 * @typedef {object} Schedule
 * @property {string} schedule_id
 * @property {string} task
 * @property {string} cron
 * @property {string} [timezone]
 * @property {unknown} [data]
 * @property {string} [overlap]
 * @property {boolean} [paused]
 * @property {string[]} [next_fire_times]
 * @property {string[]} [next_runs]
 * @property {string | null} [next_fire_at]
 * @property {string | null} [last_fired_at]
 * @property {string | null} [last_execution_id]
 * @property {string | null} [held_tick_at]
 * @property {"code" | "api"} [source]
 */

/**
 * A JSON Schema, as far as the dashboard reads one (forms and client-side checks).
 * @typedef {object} JsonSchema
 * @property {string | string[]} [type]
 * @property {Record<string, JsonSchema>} [properties]
 * @property {string[]} [required]
 * @property {unknown[]} [enum]
 * @property {unknown} [const]
 * @property {unknown} [default]
 * @property {string} [title]
 * @property {string} [description]
 * @property {string} [format]
 * @property {boolean | JsonSchema} [additionalProperties]
 * @property {JsonSchema} [items]
 * @property {number} [minimum]
 * @property {number} [maximum]
 * @property {number} [exclusiveMinimum]
 * @property {number} [exclusiveMaximum]
 * @property {number} [minLength]
 * @property {number} [maxLength]
 * @property {string} [pattern]
 * @property {number} [minItems]
 * @property {number} [maxItems]
 */

export {};
