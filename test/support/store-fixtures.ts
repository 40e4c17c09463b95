/**
 * Shared pieces of the store behaviour suite: the harness contract each backend provides, a per-test
 * context that opens and closes stores, and small builders. Everything here speaks only the `Store`
 * interface, so the same helpers serve SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { ExecutionRecord, StepRecord } from "../../src/core/types.js";
import type { ExecutionRow } from "../../src/state/columns.js";
import { toRow } from "../../src/store/row-mapping.js";
import type { Checkpoint, ClaimedExecution, ClaimRequest, Fence, Notice, Store, WorkerPatch } from "../../src/store/store.js";

/** Store options a test may set on a peer (both stores take them). */
export interface PeerOptions {
  maxQueuedInserts?: number;
}

export interface StoreHarness {
  /** A store on a fresh (or freshly reset) database. The suite calls `migrate()` and later `close()` on it. */
  open(): Promise<Store>;
  /** a second, independent connection/instance to the SAME database, for races (with store options when given) */
  openPeer(options?: PeerOptions): Promise<Store>;
  /** drop everything created by open()/openPeer() (the suite has closed every store it opened by then) */
  reset(): Promise<void>;
  /**
   * The (task, status) pairs whose maintained count differs from a real count of the rows, read from the
   * database directly. Checked after every test: each status-changing write must keep the counts exact.
   */
  countMismatches(): Promise<string[]>;
  /** `table: n` for every table holding rows of these execution ids, read from the database directly. */
  leftovers(executionIds: readonly string[]): Promise<string[]>;
}

/** 2026-01-01T00:00:00Z: every time in the suite is an explicit offset from here (stores never read the clock). */
export const T0 = 1_767_225_600_000;
export const LEASE_MS = 30_000;

/** The fields a new execution has beyond the contract's, at their defaults (every record in the suite has them). */
export const EXTRA_DEFAULTS = {
  timeoutFrom: null,
  crashes: 0,
  wakeRequested: false,
  parentId: null,
  parentStep: null,
  cancelWithParent: true,
  rerunOf: null,
  scheduleId: null,
  priority: 0,
  concurrencyKey: null,
  concurrencyLimit: null,
  startAt: null,
  traceparent: null,
  bufferedEvents: 0,
} as const;

/** The stored row of execution `id`, which must exist. */
export async function rowOf(store: Store, id: string): Promise<ExecutionRow> {
  const record = await store.getExecution(id);
  assert.ok(record, `execution ${id} exists`);
  return toRow(record);
}

export function newId(): string {
  return `exec-${randomBytes(8).toString("hex")}`;
}

/** Opens stores for one test and closes them all afterwards, whatever the test did. */
export class SuiteContext {
  private opened: Store[] = [];
  private current: Store | null = null;

  constructor(private readonly harness: StoreHarness) {}

  /** The test's main store (migrated). */
  get store(): Store {
    if (!this.current) throw new Error("store used outside a test");
    return this.current;
  }

  async setUp(): Promise<void> {
    await this.harness.reset();
    this.current = await this.track(this.harness.open());
  }

  /** Another instance on the same database, migrated too (which also exercises a repeated migrate). */
  async peer(options?: PeerOptions): Promise<Store> {
    return this.track(this.harness.openPeer(options));
  }

  /** See {@link StoreHarness.leftovers}. */
  leftovers(executionIds: readonly string[]): Promise<string[]> {
    return this.harness.leftovers(executionIds);
  }

  async tearDown(): Promise<void> {
    const stores = this.opened;
    this.opened = [];
    this.current = null;
    for (const store of stores) await store.close();
    assert.deepEqual(await this.harness.countMismatches(), [], "status counts must equal the stored rows after every test");
  }

  private async track(opening: Promise<Store>): Promise<Store> {
    const store = await opening;
    this.opened.push(store);
    await store.migrate();
    return store;
  }
}

export interface CreateOptions {
  task?: string;
  key?: string | null;
  now?: number;
  dataJson?: string;
  id?: string;
  priority?: number;
}

/**
 * The task of every execution the fixtures created: a checkpoint's `owner` names the execution's task, as
 * the worker's do (the store trusts it for notices), so `checkpoint()` fills it in from here.
 */
const taskOf = new Map<string, string>();

export async function create(store: Store, options: CreateOptions = {}): Promise<ExecutionRecord> {
  const result = await store.createExecution({
    id: options.id ?? newId(),
    task: options.task ?? "demo",
    dataJson: options.dataJson ?? '{"n":1}',
    idempotencyKey: options.key ?? null,
    now: options.now ?? T0,
    ...(options.priority === undefined ? {} : { priority: options.priority }),
  });
  assert.equal(result.created, true, "fixture create must insert a new row");
  taskOf.set(result.execution.id, result.execution.task);
  return result.execution;
}

/** Creates an execution and claims it; the caller gets the claimed record and its fence. */
export async function createRunning(
  store: Store,
  options: CreateOptions & { claimAt?: number } = {},
): Promise<{ execution: ExecutionRecord; fence: Fence }> {
  const created = await create(store, options);
  const claimed = await claimRows(store, {
    workerId: "worker-1",
    tasks: [created.task],
    limit: 1,
    now: options.claimAt ?? options.now ?? T0,
    leaseMs: LEASE_MS,
  });
  const first = claimed[0];
  assert.ok(first, "fixture claim must return the new execution");
  assert.equal(first.execution.id, created.id, "fixture claim took another execution: use a unique task name");
  return { execution: first.execution, fence: { executionId: created.id, leaseToken: first.execution.leaseToken } };
}

/** The rows a claim took (the suite rarely cares whether it left any for later). */
export async function claimRows(store: Store, request: ClaimRequest): Promise<ClaimedExecution[]> {
  return (await store.claim(request)).claimed;
}

/** A checkpoint of an execution of task "demo" (no parent, not limited) unless `extra.owner` says otherwise. */
export function checkpoint(fence: Fence, patch: WorkerPatch & { stepsCompleted?: number }, extra: Partial<Checkpoint> = {}): Checkpoint {
  const { stepsCompleted = 0, ...rest } = patch as WorkerPatch & { stepsCompleted?: number };
  return {
    fence,
    owner: {
      task: taskOf.get(fence.executionId) ?? "demo",
      parentId: null,
      parentStep: null,
      concurrencyKey: null,
      concurrencyLimit: null,
    },
    now: T0,
    patch: rest as WorkerPatch,
    stepsCompleted,
    crashes: 0,
    ...extra,
  };
}

export async function applyOne(store: Store, cp: Checkpoint): Promise<boolean> {
  const [applied] = await store.applyCheckpoints([cp]);
  assert.equal(typeof applied, "boolean");
  return applied === true;
}

export function stepRecord(executionId: string, name: string, over: Partial<StepRecord> = {}): StepRecord {
  return {
    executionId,
    name,
    kind: "step",
    state: "completed",
    resultJson: '{"ok":true}',
    error: null,
    attempts: 1,
    wakeAt: null,
    schemaJson: null,
    startedAt: T0,
    completedAt: T0,
    seq: 1,
    childId: null,
    copiedFrom: null,
    settledIn: 1,
    ...over,
  };
}

/** An event-wait step row, as the worker records it when the workflow reaches `waitForEvent`. */
export function eventWait(executionId: string, name: string, schemaJson: string | null = null): StepRecord {
  return stepRecord(executionId, name, { kind: "event", state: "waiting", resultJson: null, completedAt: null, schemaJson, attempts: 0 });
}

/** Runs an execution up to an event wait (no timeout) and returns it. */
export async function createWaitingForEvent(store: Store, eventName: string, options: CreateOptions & { schemaJson?: string } = {}) {
  const { execution, fence } = await createRunning(store, options);
  const applied = await applyOne(
    store,
    checkpoint(
      fence,
      { transition: "park", currentStep: eventName, waitingForEvent: eventName, wakeAt: null, stepsCompleted: 0 },
      {
        steps: [eventWait(execution.id, eventName, options.schemaJson ?? null)],
      },
    ),
  );
  assert.equal(applied, true);
  return execution;
}

/**
 * Records notices and lets a test await one. Event-driven (no polling), with a deadline so a missing
 * notice fails the test instead of hanging it; a backend may deliver notices asynchronously.
 */
export class NoticeRecorder {
  readonly notices: Notice[] = [];
  private waiters: { match: (n: Notice) => boolean; resolve: (n: Notice) => void }[] = [];
  readonly unsubscribe: () => void;

  constructor(store: Store) {
    this.unsubscribe = store.subscribe((notice) => this.record(notice));
  }

  private record(notice: Notice): void {
    this.notices.push(notice);
    for (const waiter of this.waiters.filter((w) => w.match(notice))) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(notice);
    }
  }

  async waitFor(match: (n: Notice) => boolean, what: string, timeoutMs = 5000): Promise<Notice> {
    const seen = this.notices.find(match);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<Notice>((resolve) => this.waiters.push({ match, resolve }));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no notice: ${what}; got ${JSON.stringify(this.notices)}`)), timeoutMs);
    });
    try {
      return await Promise.race([arrived, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
