/**
 * The worker side's read-and-take: claims and the next wake-up. Everything a worker may pick up is found
 * through `runnable_at`, so new work, due timers, ended backoffs and expired leases (crash recovery) are
 * all one query per priority tier on a partial index.
 */
import type { ExecutionRow } from "../../state/columns.js";
import { TRANSITIONS } from "../../state/transitions.js";
import type { ClaimedExecution, ClaimRequest, ClaimResult, Notice } from "../store.js";
import { rowNotice } from "../writes.js";
import { claimedFrom } from "./commands.js";
import { handOn, type QueuePlace, slotsUsed, waitingHead } from "./consequences.js";
import type { Connection } from "./statement-cache.js";
import { transitionSql } from "./transition-statements.js";

// INDEXED BY turns a planner change into an error instead of a silent full scan: with `task IN (...)` the
// planner could otherwise prefer a task index and sort every due row. Task lists travel as one JSON
// parameter so the statement text does not depend on how many tasks there are.
const CANDIDATE = "id, status, started_at, task, concurrency_key, concurrency_limit, priority, created_at";
const TASKS = "task IN (SELECT value FROM json_each(@tasks))";
const PLAIN_DUE = `SELECT ${CANDIDATE} FROM executions INDEXED BY executions_due
   WHERE runnable_at IS NOT NULL AND priority = 0 AND runnable_at <= @now AND ${TASKS}
   ORDER BY runnable_at, id LIMIT @lim`;
/** Positive priorities, then plain rows, then negative priorities. */
export const DUE_TIERS = [
  `SELECT ${CANDIDATE} FROM executions INDEXED BY executions_due_priority
   WHERE runnable_at IS NOT NULL AND priority <> 0 AND priority > 0 AND runnable_at <= @now AND ${TASKS}
   ORDER BY priority DESC, runnable_at, id LIMIT @lim`,
  PLAIN_DUE,
  `SELECT ${CANDIDATE} FROM executions INDEXED BY executions_due_priority
   WHERE runnable_at IS NOT NULL AND priority <> 0 AND priority < 0 AND runnable_at <= @now AND ${TASKS}
   ORDER BY priority DESC, runnable_at, id LIMIT @lim`,
];

/**
 * Whether any row has a priority: when none has (the common case), the claim runs only the plain tier. An
 * empty tier still costs nearly as much as a query that finds a row, while this check is one probe of a
 * partial index (docs/decisions/034-sqlite-claim-plain-tier.md).
 */
const ANY_PRIORITY = `SELECT EXISTS (SELECT 1 FROM executions INDEXED BY executions_due_priority
  WHERE runnable_at IS NOT NULL AND priority <> 0) AS found`;
const PLAIN_TIER = [PLAIN_DUE];
/** Whether any row of these tasks waits for a concurrency slot: a probe of a partial index that is usually empty. */
const ANY_WAITING = `SELECT EXISTS (SELECT 1 FROM executions INDEXED BY executions_slot_wait
  WHERE ${TASKS} AND status = 'pending' AND runnable_at IS NULL) AS found`;

export const NEXT_WAKE_PLAIN = `SELECT runnable_at FROM executions INDEXED BY executions_due
  WHERE runnable_at IS NOT NULL AND priority = 0 AND ${TASKS} ORDER BY runnable_at LIMIT 1`;
export const NEXT_WAKE_PRIORITY = `SELECT min(runnable_at) AS runnable_at FROM executions INDEXED BY executions_due_priority
  WHERE runnable_at IS NOT NULL AND priority <> 0 AND ${TASKS}`;

const CLAIM = transitionSql(TRANSITIONS.claim);
const AWAIT_SLOT = transitionSql(TRANSITIONS.await_slot);

/** One claim's knowledge of its tasks' slot queues. */
interface QueueState {
  /** The claim's task list (JSON). */
  tasks: string;
  /** Whether a row of these tasks waits for a slot: asked at the first row that wants one, true once the claim parks one. */
  waiting?: boolean;
}

interface Candidate {
  id: string;
  status: string;
  started_at: number | null;
  task: string;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  priority: number;
  created_at: number;
}

export function claim(conn: Connection, request: ClaimRequest): { result: ClaimResult; notices: Notice[] } {
  if (request.limit <= 0 || request.tasks.length === 0) return { result: { claimed: [], more: false }, notices: [] };
  return conn.sql.transaction(claimIn).immediate(conn, request);
}

function claimIn(conn: Connection, request: ClaimRequest): { result: ClaimResult; notices: Notice[] } {
  const { workerId, now, leaseMs, limit } = request;
  const tasks = JSON.stringify(request.tasks);
  const claimed: ClaimedExecution[] = [];
  const notices: Notice[] = [];
  let more = false;
  const queue: QueueState = { tasks };
  const tiers = (conn.sql.get(ANY_PRIORITY).get() as { found: number }).found ? DUE_TIERS : PLAIN_TIER;
  for (const tier of tiers) {
    if (claimed.length >= limit) break;
    for (const candidate of conn.sql.get(tier).all({ now, tasks, lim: limit - claimed.length }) as Candidate[]) {
      if (!takesSlot(conn, candidate, now, notices, queue)) {
        queue.waiting = true;
        const parked = conn.sql.executionRow(AWAIT_SLOT, { id: candidate.id, now }) as ExecutionRow;
        const notice = rowNotice(parked);
        if (notice) notices.push(notice);
        more = true;
        continue;
      }
      const params = { id: candidate.id, now, worker: workerId, lease_ms: leaseMs };
      const row = conn.sql.executionRow(CLAIM, params) as ExecutionRow;
      // A rerun has never started either, but it may hold copied records: its replay needs them.
      const fresh = candidate.started_at === null && row.rerun_of === null;
      claimed.push(claimedFrom(conn, row, fresh, candidate.status === "running"));
    }
  }
  return { result: { claimed, more }, notices };
}

/**
 * Whether the candidate may run now. A row that is not concurrency-limited, or is running already (its
 * lease expired: it holds its slot), needs no slot. One that needs a slot queues behind its group's oldest
 * row waiting for one when that row is ahead of it (priority, then creation order), and free slots go to
 * the waiting rows here (`handOn`); otherwise it takes a free slot.
 */
function takesSlot(conn: Connection, candidate: Candidate, now: number, notices: Notice[], queue: QueueState): boolean {
  if (candidate.concurrency_limit === null || candidate.status === "running") return true;
  const group = { task: candidate.task, key: candidate.concurrency_key ?? "", limit: candidate.concurrency_limit };
  queue.waiting ??= (conn.sql.get(ANY_WAITING).get({ tasks: queue.tasks }) as { found: number }).found === 1;
  const head = queue.waiting ? waitingHead(conn, group.task, group.key) : undefined;
  if (head !== undefined && isAhead(head, candidate)) {
    handOn(conn, group.task, group.key, now, notices);
    return false;
  }
  return slotsUsed(conn, group.task, group.key) < group.limit;
}

function isAhead(a: Pick<QueuePlace, "id" | "priority" | "created_at">, b: Pick<QueuePlace, "id" | "priority" | "created_at">): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.created_at !== b.created_at) return a.created_at < b.created_at;
  return a.id < b.id;
}

export function nextWakeAt(conn: Connection, tasks: readonly string[]): number | null {
  if (tasks.length === 0) return null;
  const json = JSON.stringify(tasks);
  const plain = conn.sql.get(NEXT_WAKE_PLAIN).get({ tasks: json }) as { runnable_at: number } | undefined;
  const other = conn.sql.get(NEXT_WAKE_PRIORITY).get({ tasks: json }) as { runnable_at: number | null };
  const times = [plain?.runnable_at, other.runnable_at].filter((t): t is number => typeof t === "number");
  return times.length === 0 ? null : Math.min(...times);
}
