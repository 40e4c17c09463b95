/**
 * The store behaviour suite: every `Store` implementation must pass it unchanged. It speaks only the
 * `Store` interface; a backend supplies a {@link StoreHarness} that opens stores on one database and
 * resets it between tests. All times are explicit (`T0 + n`), so nothing here sleeps or reads the clock.
 *
 * ```ts
 * runStoreBehaviourSuite("postgres", { open, openPeer, reset });
 * ```
 */
import { after, afterEach, beforeEach, describe } from "node:test";
import { apiBehaviour } from "./store-behaviour-api.js";
import { eventBehaviour } from "./store-behaviour-events.js";
import { historyBehaviour } from "./store-behaviour-history.js";
import { operationsBehaviour } from "./store-behaviour-operations.js";
import { queueOrderBehaviour } from "./store-behaviour-queue-order.js";
import { retentionBehaviour } from "./store-behaviour-retention.js";
import { scheduleBehaviour } from "./store-behaviour-schedules.js";
import { transitionBehaviour } from "./store-behaviour-transitions.js";
import { workerBehaviour } from "./store-behaviour-worker.js";
import { type StoreHarness, SuiteContext } from "./store-fixtures.js";

export type { StoreHarness } from "./store-fixtures.js";

export function runStoreBehaviourSuite(label: string, harness: StoreHarness): void {
  describe(`store behaviour: ${label}`, () => {
    const ctx = new SuiteContext(harness);
    beforeEach(() => ctx.setUp());
    afterEach(() => ctx.tearDown());
    after(() => harness.reset());

    describe("API side", () => apiBehaviour(ctx));
    describe("worker side", () => workerBehaviour(ctx));
    describe("events, step detail and notices", () => eventBehaviour(ctx));
    describe("transitions: every stored row is the pure definition's", () => transitionBehaviour(ctx));
    describe("operations: heartbeats, task list, timeline, resume and rerun", () => operationsBehaviour(ctx));
    describe("history kept across retries", () => historyBehaviour(ctx));
    describe("a concurrency group's queue order", () => queueOrderBehaviour(ctx));
    describe("schedules", () => scheduleBehaviour(ctx));
    describe("retention", () => retentionBehaviour(ctx));
  });
}
