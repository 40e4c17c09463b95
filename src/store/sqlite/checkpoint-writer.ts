/**
 * Fenced writes of running executions: checkpoints (group commit) and lease renewal. A write applies only
 * while the row is `running` under the writer's lease token; a stale holder (lease expired and reclaimed,
 * or the execution cancelled) changes nothing.
 */
import { TRANSITIONS } from "../../state/transitions.js";
import type { Checkpoint, Fence, Notice } from "../store.js";
import { setList, updateContext } from "../transition-sql.js";
import { checkpointParams, type Decided, knownOutcome, rowNotice, workerTransition, writtenRow } from "../writes.js";
import { applyConsequences } from "./consequences.js";
import { insertExecution } from "./create.js";
import type { Connection } from "./statement-cache.js";
import { consumeEvents, writeAttempts, writeSteps } from "./step-writes.js";
import { fencedSql } from "./transition-statements.js";

const RENEW = "UPDATE executions SET runnable_at = ? WHERE id = ? AND status = 'running' AND lease_token = ?";

/** Applies the whole batch in one IMMEDIATE transaction; returns per-checkpoint success and the notices to emit. */
export function applyCheckpoints(conn: Connection, batch: readonly Checkpoint[]): { results: boolean[]; notices: Notice[] } {
  return conn.sql.transaction(applyAll).immediate(conn, batch);
}

function applyAll(conn: Connection, batch: readonly Checkpoint[]): { results: boolean[]; notices: Notice[] } {
  const notices: Notice[] = [];
  const results = batch.map((checkpoint) => applyCheckpoint(conn, checkpoint, notices));
  return { results, notices };
}

/** One checkpoint, inside the caller's transaction. */
export function applyCheckpoint(conn: Connection, checkpoint: Checkpoint, notices: Notice[]): boolean {
  const { fence, patch, now } = checkpoint;
  const params = { ...checkpointParams(checkpoint), id: fence.executionId, token: fence.leaseToken };
  const transition = workerTransition(patch);
  const statement = conn.sql.get(fencedSql(transition));
  const id = fence.executionId;
  // A progress write leaves the row running: no notice, no consequences, nothing to read back.
  if (patch.transition === "progress") {
    if (statement.run(params).changes === 0) return false;
    writeRecords(conn, id, checkpoint, notices);
    return true;
  }
  const known = knownOutcome(transition);
  const outcome = known ? (statement.run(params).changes > 0 ? known : undefined) : (statement.get(params) as Decided | undefined);
  if (!outcome) return false;
  writeRecords(conn, id, checkpoint, notices);
  const row = writtenRow(checkpoint, outcome);
  const notice = rowNotice(row);
  if (notice) notices.push(notice);
  applyConsequences(conn, "running", row, now, notices);
  return true;
}

function writeRecords(conn: Connection, id: string, checkpoint: Checkpoint, notices: Notice[]): void {
  writeSteps(conn, id, checkpoint.steps);
  writeAttempts(conn, id, checkpoint.attempts);
  consumeEvents(conn, id, checkpoint.consumedEvents);
  for (const child of checkpoint.children ?? []) insertExecution(conn, child, notices);
}

export function releaseUnheld(conn: Connection, workerId: string, held: readonly string[], now: number): number {
  const sql = conn.sql.get(
    `UPDATE executions SET ${setList(
      TRANSITIONS.expire_lease,
      updateContext("sqlite", (name) => `@${name}`),
    )}
     WHERE status = 'running' AND lease_owner = @worker AND id NOT IN (SELECT value FROM json_each(@held))`,
  );
  return conn.db.transaction(() => sql.run({ now, worker: workerId, held: JSON.stringify(held) }).changes).immediate();
}

export function renewLeases(conn: Connection, fences: readonly Fence[], now: number, leaseMs: number): Set<string> {
  return conn.sql.transaction(renewAll).immediate(conn, fences, now + leaseMs);
}

function renewAll(conn: Connection, fences: readonly Fence[], until: number): Set<string> {
  const held = new Set<string>();
  for (const fence of fences) {
    if (conn.sql.get(RENEW).run(until, fence.executionId, fence.leaseToken).changes > 0) held.add(fence.executionId);
  }
  return held;
}
