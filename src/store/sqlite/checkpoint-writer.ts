/**
 * Fenced writes of running executions: checkpoints (group commit) and lease renewal. A write applies only
 * while the row is `running` under the writer's lease token; a stale holder (lease expired and reclaimed,
 * or the execution cancelled) changes nothing. Every statement is an upsert, a DO NOTHING insert or an
 * absolute update, so re-applying a batch after an ambiguous failure leaves the same state.
 */
import type { Checkpoint, ExecutionPatch, Fence, Notice } from "../store.js";
import { encodeError, STEP_COLUMNS, stepParams } from "./row-mapping.js";
import type { Connection } from "./statement-cache.js";

const FENCE = "SELECT task FROM executions WHERE id = ? AND status = 'running' AND lease_token = ?";

const UPSERT_STEP = `
  INSERT INTO steps (${STEP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (execution_id, name) DO UPDATE SET
    kind = excluded.kind, state = excluded.state, result = excluded.result, error = excluded.error,
    attempts = excluded.attempts, wake_at = excluded.wake_at, schema = excluded.schema,
    started_at = excluded.started_at, completed_at = excluded.completed_at`;

const INSERT_ATTEMPT = `
  INSERT INTO step_attempts (execution_id, step, attempt, started_at, ended_at, error) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;

const PATCH_RUNNING = "UPDATE executions SET current_step = ?, steps_completed = ?, updated_at = ? WHERE id = ?";

const PATCH_WAITING = `
  UPDATE executions
  SET status = 'waiting', current_step = ?, waiting_for_event = ?, steps_completed = ?, runnable_at = ?,
      lease_owner = NULL, updated_at = ?
  WHERE id = ?`;

const PATCH_REQUEUE = `
  UPDATE executions
  SET status = ?, runnable_at = ?, lease_owner = NULL, current_step = NULL, waiting_for_event = NULL, updated_at = ?
  WHERE id = ?`;

const PATCH_RETRY = `
  UPDATE executions
  SET status = ?, runnable_at = ?, lease_owner = NULL, current_step = NULL, waiting_for_event = NULL,
      attempt = ?, error = NULL, updated_at = ?,
      steps_completed = (SELECT count(*) FROM steps WHERE steps.execution_id = executions.id AND steps.state = 'completed')
  WHERE id = ?`;

const DELETE_FAILED_STEPS = "DELETE FROM steps WHERE execution_id = ? AND state = 'failed'";

const PATCH_COMPLETED = `
  UPDATE executions
  SET status = 'completed', output = ?, completed_at = ?, runnable_at = NULL, current_step = NULL,
      waiting_for_event = NULL, steps_completed = ?, lease_owner = NULL, updated_at = ?
  WHERE id = ?`;

const PATCH_FAILED = `
  UPDATE executions
  SET status = 'failed', error = ?, completed_at = ?, runnable_at = NULL, current_step = NULL,
      waiting_for_event = NULL, steps_completed = ?, lease_owner = NULL, updated_at = ?
  WHERE id = ?`;

const RENEW = "UPDATE executions SET runnable_at = ? WHERE id = ? AND status = 'running' AND lease_token = ?";

/** Applies the whole batch in one IMMEDIATE transaction; returns per-checkpoint success and the notices to emit. */
export function applyCheckpoints(conn: Connection, batch: readonly Checkpoint[]): { results: boolean[]; notices: Notice[] } {
  const run = conn.db.transaction(() => {
    const notices: Notice[] = [];
    const results = batch.map((checkpoint) => applyOne(conn, checkpoint, notices));
    return { results, notices };
  });
  return run.immediate();
}

function applyOne(conn: Connection, checkpoint: Checkpoint, notices: Notice[]): boolean {
  const { fence } = checkpoint;
  const held = conn.sql.get(FENCE).get(fence.executionId, fence.leaseToken) as { task: string } | undefined;
  if (!held) return false;
  for (const step of checkpoint.steps ?? []) conn.sql.get(UPSERT_STEP).run(...stepParams(step));
  for (const a of checkpoint.attempts ?? []) {
    conn.sql.get(INSERT_ATTEMPT).run(a.executionId, a.step, a.attempt, a.startedAt, a.endedAt, encodeError(a.error));
  }
  const notice = applyPatch(conn, fence.executionId, held.task, checkpoint);
  if (notice) notices.push(notice);
  return true;
}

function applyPatch(conn: Connection, id: string, task: string, checkpoint: Checkpoint): Notice | null {
  const { now } = checkpoint;
  const patch: ExecutionPatch = checkpoint.execution;
  switch (patch.status) {
    case "running":
      conn.sql.get(PATCH_RUNNING).run(patch.currentStep, patch.stepsCompleted, now, id);
      return null;
    case "waiting":
      conn.sql.get(PATCH_WAITING).run(patch.currentStep, patch.waitingForEvent, patch.stepsCompleted, patch.wakeAt, now, id);
      return patch.wakeAt === null ? null : { kind: "runnable", task, at: patch.wakeAt };
    case "requeue": {
      // A backoff that has not ended shows as `waiting`, so the status tells users nothing runs right now.
      const status = patch.runAt <= now ? "pending" : "waiting";
      if (patch.retryAttempt) {
        // A task-level retry runs failed steps again; their attempt history stays in step_attempts, and
        // steps_completed is recounted so it no longer includes the discarded failures.
        conn.sql.get(DELETE_FAILED_STEPS).run(id);
        conn.sql.get(PATCH_RETRY).run(status, patch.runAt, patch.retryAttempt.attempt, now, id);
      } else {
        conn.sql.get(PATCH_REQUEUE).run(status, patch.runAt, now, id);
      }
      return { kind: "runnable", task, at: patch.runAt };
    }
    case "completed":
      conn.sql.get(PATCH_COMPLETED).run(patch.outputJson, now, patch.stepsCompleted, now, id);
      return { kind: "terminal", executionId: id, status: "completed" };
    case "failed":
      conn.sql.get(PATCH_FAILED).run(encodeError(patch.error), now, patch.stepsCompleted, now, id);
      return { kind: "terminal", executionId: id, status: "failed" };
  }
}

export function renewLeases(conn: Connection, fences: readonly Fence[], now: number, leaseMs: number): Set<string> {
  const run = conn.db.transaction(() => {
    const held = new Set<string>();
    for (const fence of fences) {
      if (conn.sql.get(RENEW).run(now + leaseMs, fence.executionId, fence.leaseToken).changes > 0) held.add(fence.executionId);
    }
    return held;
  });
  return run.immediate();
}
