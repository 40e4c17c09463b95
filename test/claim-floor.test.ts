/**
 * The PostgreSQL claim floor's bookkeeping (src/store/postgres/claim-floor.ts) when claims overlap: the
 * floor only rises to what a scan saw. Each claim's statement is a function given the scan's bounds; here
 * each answers when the test says, so two claims end in a chosen order (against the database, as in
 * `pg-claim-floor`, the order of two statements' answers cannot be chosen).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClaimFloor, FULL_SCAN_EVERY_MS, NO_FLOOR, type ScanBounds } from "../src/store/postgres/claim-floor.js";
import type { ClaimedExecution, ClaimRequest, ClaimResult } from "../src/store/store.js";
import { type Deferred, deferred } from "./support/deferred.js";

const request = (now: number, limit: number): ClaimRequest => ({ workerId: "w", tasks: ["t"], limit, now, leaseMs: 30_000 });

/** A claim result of `n` rows of priority 0 (the floor reads only their count and priorities). */
const claimed = (n: number, more = false): ClaimResult => ({
  claimed: Array.from({ length: n }, () => ({ execution: { priority: 0 } }) as ClaimedExecution),
  more,
});

interface Outcome {
  claim: ClaimResult;
  firstPlainDue: number | null;
}

/** Starts a claim whose statement answers `outcome` once released; returns the bounds it was given. */
function startClaim(floor: ClaimFloor, req: ClaimRequest) {
  const answer: Deferred<Outcome> = deferred();
  let bounds: ScanBounds | undefined;
  const done = floor.scan(req, (b) => {
    bounds = b;
    return answer.promise;
  });
  return { bounds: () => bounds as ScanBounds, answer, done };
}

test("a bounded claim that ends after a scan from the start does not raise the floor over what that scan found", async () => {
  const floor = new ClaimFloor();
  const t = 1_000_000;
  // The first claim scans from the start and finds nothing: the floor goes to a second below its time.
  const first = startClaim(floor, request(t, 1));
  assert.equal(first.bounds().from, NO_FLOOR);
  first.answer.resolve({ claim: claimed(0), firstPlainDue: null });
  await first.done;
  assert.equal(floor.current(["t"]), t - 1000);

  // Later, two claims at once: one scans from the start (its turn), the other from the floor.
  const later = t + FULL_SCAN_EVERY_MS;
  const full = startClaim(floor, request(later, 1));
  const bounded = startClaim(floor, request(later + 1, 2));
  assert.deepEqual([full.bounds().from, bounded.bounds().from], [NO_FLOOR, t - 1000]);
  // The scan from the start reaches a row no notice announced, due below the floor (a row of a clock behind,
  // written by a process whose notice was lost with its connection), and fills its claim there: rows may
  // follow it, and the floor goes down to it.
  const hidden = t - 5000;
  full.answer.resolve({ claim: claimed(1), firstPlainDue: hidden });
  await full.done;
  assert.equal(floor.current(["t"]), hidden);
  // The bounded claim fills up above where it began. It never looked below that: the floor stays.
  bounded.answer.resolve({ claim: claimed(2), firstPlainDue: t - 500 });
  await bounded.done;
  assert.equal(floor.current(["t"]), hidden, "the rows after the one the scan from the start took stay in reach");

  // With no scan from the start between, a bounded claim raises the floor to what it saw, as before.
  const next = startClaim(floor, request(later + 2, 2));
  assert.equal(next.bounds().from, hidden);
  next.answer.resolve({ claim: claimed(2), firstPlainDue: t - 400 });
  await next.done;
  assert.equal(floor.current(["t"]), t - 400);
});
